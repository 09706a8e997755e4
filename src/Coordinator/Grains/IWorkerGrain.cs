namespace Dtrain.Coordinator.Grains;

/// <summary>
/// The liveness of one worker in one epoch (keyed by worker id): a worker not heard from for the heartbeat
/// timeout is lost, which ends its epoch.
/// </summary>
public interface IWorkerGrain : IGrainWithStringKey
{
    /// <summary>Starts watching a worker whose epoch has begun.</summary>
    Task WatchAsync(WatchedWorker worker);

    Task HeartbeatAsync();

    /// <summary>Stops watching: the worker finished, or left its epoch.</summary>
    Task RetireAsync();
}

[GenerateSerializer, Immutable]
public sealed record WatchedWorker
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public required long Epoch { get; init; }
    [Id(2)] public required int Rank { get; init; }
    [Id(3)] public required int ProcessId { get; init; }
    [Id(4)] public required TimeSpan HeartbeatTimeout { get; init; }
}
