namespace Dtrain.Coordinator.Grains;

/// <summary>A worker asking to join: where its peers reach it, and its process.</summary>
[GenerateSerializer, Immutable]
public sealed record WorkerRegistration
{
    [Id(0)] public required string PeerAddress { get; init; }
    [Id(1)] public int ProcessId { get; init; }
    /// <summary>The rank the worker must have, when its launcher numbered it already (mpiexec); null lets the rendezvous choose.</summary>
    [Id(2)] public int? RequestedRank { get; init; }
}

/// <summary>A join's answer: the new worker's id, or the reason it was refused.</summary>
[GenerateSerializer, Immutable]
public sealed record JoinOutcome
{
    [Id(0)] public string? WorkerId { get; init; }
    [Id(1)] public string? Refusal { get; init; }

    public static JoinOutcome Joined(string workerId) => new() { WorkerId = workerId };

    public static JoinOutcome Refused(string reason) => new() { Refusal = reason };
}

/// <summary>A worker's place in one epoch of the job: its rank and every rank's peer address.</summary>
[GenerateSerializer, Immutable]
public sealed record RankAssignment
{
    [Id(0)] public required int Rank { get; init; }
    [Id(1)] public required long Epoch { get; init; }
    [Id(2)] public required IReadOnlyList<string> PeerAddresses { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record RankProgress
{
    [Id(0)] public required int Rank { get; init; }
    [Id(1)] public required int Step { get; init; }
    [Id(2)] public required double Loss { get; init; }
    [Id(3)] public required long Samples { get; init; }
    /// <summary>When the coordinator last heard from the rank (UTC): every report is also a heartbeat.</summary>
    [Id(4)] public DateTime HeardAt { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record RankResult
{
    [Id(0)] public required int Rank { get; init; }
    [Id(1)] public required double FinalLoss { get; init; }
    [Id(2)] public required double TestAccuracy { get; init; }
    [Id(3)] public required string ParameterDigest { get; init; }
}

/// <summary>A rank's shard of the checkpoint taken after <see cref="Step"/> steps: its file name and checksum.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardReport
{
    [Id(0)] public required int Rank { get; init; }
    [Id(1)] public required long Step { get; init; }
    [Id(2)] public required string File { get; init; }
    [Id(3)] public required string Checksum { get; init; }
}

/// <summary>
/// Where a job is: forming (waiting for its workers), running, restarting (an epoch failed; the next one is
/// forming), completed (every rank reported its result) or failed (the launcher gave up).
/// </summary>
public enum JobState
{
    Forming,
    Running,
    Restarting,
    Completed,
    Failed,
}

/// <summary>What the job grain knows of a job: its state, epoch, restarts, the latest progress and every rank's result.</summary>
[GenerateSerializer, Immutable]
public sealed record JobStatus
{
    [Id(0)] public required IReadOnlyList<RankProgress> Progress { get; init; }
    [Id(1)] public required IReadOnlyList<RankResult> Results { get; init; }
    [Id(2)] public JobState State { get; init; }
    [Id(3)] public long Epoch { get; init; } = 1;
    [Id(4)] public int Restarts { get; init; }
    /// <summary>Why the job failed, when it did.</summary>
    [Id(5)] public string? Failure { get; init; }
}
