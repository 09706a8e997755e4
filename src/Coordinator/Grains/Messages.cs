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
    /// <summary>Refused because the epoch already started with fewer workers than the most: a next epoch could take this one.</summary>
    [Id(2)] public bool CouldGrow { get; init; }

    public static JoinOutcome Joined(string workerId) => new() { WorkerId = workerId };

    public static JoinOutcome Refused(string reason) => new() { Refusal = reason };
}

/// <summary>
/// When an epoch's world is complete: at once with <see cref="MaxWorkers"/>, or with at least
/// <see cref="MinWorkers"/> once <see cref="LastCall"/> has passed since the minimum was reached; an epoch still
/// short of the minimum after <see cref="JoinTimeout"/> fails.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RendezvousRules
{
    [Id(0)] public required int MinWorkers { get; init; }
    [Id(1)] public required int MaxWorkers { get; init; }
    [Id(2)] public TimeSpan LastCall { get; init; }
    [Id(3)] public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A world of exactly <paramref name="workers"/>.</summary>
    public static RendezvousRules Fixed(int workers) => new() { MinWorkers = workers, MaxWorkers = workers };
}

/// <summary>An epoch that ended early and the one that replaced it.</summary>
[GenerateSerializer, Immutable]
public sealed record EpochRestart
{
    /// <summary>The new epoch.</summary>
    [Id(0)] public required long Epoch { get; init; }
    /// <summary>Why the previous epoch ended.</summary>
    [Id(1)] public required string Reason { get; init; }
    /// <summary>The step the ended epoch had reached.</summary>
    [Id(2)] public required long ReachedStep { get; init; }
    /// <summary>The step the new epoch resumes from: the newest committed checkpoint.</summary>
    [Id(3)] public required long ResumeStep { get; init; }
    /// <summary>When the previous epoch was declared over (UTC).</summary>
    [Id(4)] public required DateTime At { get; init; }
    /// <summary>The process declared lost, when one was: its launcher should make sure it is gone.</summary>
    [Id(5)] public int? LostProcessId { get; init; }
}

/// <summary>A worker's place in one epoch of the job: its rank and every rank's peer address.</summary>
[GenerateSerializer, Immutable]
public sealed record RankAssignment
{
    [Id(0)] public required int Rank { get; init; }
    [Id(1)] public required long Epoch { get; init; }
    [Id(2)] public required IReadOnlyList<string> PeerAddresses { get; init; }
    /// <summary>The worker's process, as it registered.</summary>
    [Id(3)] public int ProcessId { get; init; }
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
    [Id(5)] public long Epoch { get; init; } = 1;
}

[GenerateSerializer, Immutable]
public sealed record RankResult
{
    [Id(0)] public required int Rank { get; init; }
    [Id(1)] public required double FinalLoss { get; init; }
    [Id(2)] public required double TestAccuracy { get; init; }
    [Id(3)] public required string ParameterDigest { get; init; }
    [Id(4)] public long Epoch { get; init; } = 1;
    /// <summary>The world the rank finished in: the job is complete when that many ranks reported.</summary>
    [Id(5)] public required int WorldSize { get; init; }
    /// <summary>The rank's samples per second, measured by the rank from its first step's end to its last; 0 when it took fewer than two steps.</summary>
    [Id(6)] public double SamplesPerSecond { get; init; }
}

/// <summary>A rank's shard of the checkpoint taken after <see cref="Step"/> steps: its file name and checksum.</summary>
[GenerateSerializer, Immutable]
public sealed record ShardReport
{
    [Id(0)] public required int Rank { get; init; }
    [Id(1)] public required long Step { get; init; }
    [Id(2)] public required string File { get; init; }
    [Id(3)] public required string Checksum { get; init; }
    /// <summary>The world the shard was written in: the checkpoint is whole when that many ranks reported.</summary>
    [Id(4)] public required int WorldSize { get; init; }
    [Id(5)] public long Epoch { get; init; } = 1;
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
    [Id(6)] public EpochRestart? LastRestart { get; init; }
}

/// <summary>Who a call says it comes from: a worker id, and the epoch, rank and world it claims, where the call names them.</summary>
[GenerateSerializer, Immutable]
public sealed record MemberClaim
{
    [Id(0)] public required string WorkerId { get; init; }
    [Id(1)] public long? Epoch { get; init; }
    [Id(2)] public int? Rank { get; init; }
    [Id(3)] public int? WorldSize { get; init; }
}

/// <summary>How a <see cref="MemberClaim"/> compares with the rendezvous' membership.</summary>
public enum MembershipKind
{
    /// <summary>A member of the current epoch, as it claims.</summary>
    Current,
    /// <summary>A member, as it claims, of an epoch that has ended: it leaves that epoch and rejoins.</summary>
    Ended,
    /// <summary>Not a worker the rendezvous knows, or not the member it claims to be.</summary>
    NotMember,
    /// <summary>A rank outside the epoch's world, an epoch the job never reached, or another world size.</summary>
    Invalid,
}

[GenerateSerializer, Immutable]
public sealed record Membership([property: Id(0)] MembershipKind Kind, [property: Id(1)] string? Refusal = null);
