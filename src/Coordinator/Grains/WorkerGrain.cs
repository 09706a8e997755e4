using System.Diagnostics;

namespace Dtrain.Coordinator.Grains;

public sealed class WorkerGrain([PersistentState("worker")] IPersistentState<WorkerGrain.Record> stored) : Grain, IWorkerGrain
{
    [GenerateSerializer]
    public sealed class Record
    {
        /// <summary>The worker being watched; null before its epoch began and after it retired.</summary>
        [Id(0)] public WatchedWorker? Watched { get; set; }
    }

    private HeartbeatWatch? watch;
    private IGrainTimer? timer;

    private static TimeSpan Now => Stopwatch.GetElapsedTime(0);

    public override Task OnActivateAsync(CancellationToken ct)
    {
        // Reactivated after a coordinator restart (Redis mode): the worker's timeout counts from now.
        if (stored.State.Watched is { } worker) StartTimer(worker);
        return Task.CompletedTask;
    }

    public async Task WatchAsync(WatchedWorker worker)
    {
        stored.State.Watched = worker;
        await stored.WriteStateAsync();
        watch = null;
        StartTimer(worker);
    }

    private void StartTimer(WatchedWorker worker)
    {
        // Checked often, so that a silent worker is found at most a quarter second (or a quarter timeout) late.
        var period = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMilliseconds(250).Ticks, worker.HeartbeatTimeout.Ticks / 4));
        watch ??= new HeartbeatWatch(worker.HeartbeatTimeout, period, Now);
        timer ??= this.RegisterGrainTimer(CheckAsync, period, period);
    }

    public Task HeartbeatAsync()
    {
        watch?.Heard(Now);
        return Task.CompletedTask;
    }

    public async Task RetireAsync()
    {
        timer?.Dispose();
        timer = null;
        watch = null;
        if (stored.State.Watched is not null) await stored.ClearStateAsync();
        DeactivateOnIdle();
    }

    private async Task CheckAsync(CancellationToken ct)
    {
        if (stored.State.Watched is not { } worker || watch?.IsLost(Now) != true) return;
        await RetireAsync();
        await GrainFactory.GetGrain<IJobGrain>(worker.JobId).EndEpochAsync(worker.Epoch,
            $"rank {worker.Rank} was lost: no heartbeat for {worker.HeartbeatTimeout.TotalSeconds:0.#} s", worker.ProcessId);
    }
}
