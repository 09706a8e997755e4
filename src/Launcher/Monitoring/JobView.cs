using Dtrain.Contracts.Coordinator;

namespace Dtrain.Launcher.Monitoring;

/// <summary>
/// A job as its coordinator's Status rpc describes it, in the launcher's terms: its state, epoch and restarts, the
/// current epoch's ranks, results and member processes, the last restart and the newest committed checkpoint.
/// </summary>
public sealed record JobView
{
    public required string State { get; init; }

    public bool IsCompleted => State == "completed";

    public bool IsFailed => State == "failed";

    public required long Epoch { get; init; }

    public required int Restarts { get; init; }

    /// <summary>Why the job failed, when it did.</summary>
    public string? Failure { get; init; }

    /// <summary>Every rank the coordinator heard from in the current epoch, heartbeats before a first step included.</summary>
    public required IReadOnlyList<RankView> Ranks { get; init; }

    /// <summary>The current epoch's finished ranks, by rank.</summary>
    public required IReadOnlyList<RankResultView> Results { get; init; }

    /// <summary>The processes of the workers that joined the current epoch.</summary>
    public required IReadOnlyList<int> MemberProcessIds { get; init; }

    /// <summary>The rank of each member process, once the epoch's world is complete.</summary>
    public IReadOnlyDictionary<int, int> RankOfProcess { get; init; } = new Dictionary<int, int>();

    public RestartView? LastRestart { get; init; }

    /// <summary>The newest checkpoint the run committed, and its directory; 0 and null when none.</summary>
    public long LastCheckpointStep { get; init; }

    public string? LastCheckpoint { get; init; }

    /// <summary>The view of <paramref name="reply"/>, which arrived at <paramref name="receivedAt"/> (UTC).</summary>
    public static JobView Of(StatusReply reply, DateTime receivedAt) => new()
    {
        State = reply.State,
        Epoch = reply.Epoch,
        Restarts = reply.Restarts,
        Failure = reply.Failure is "" ? null : reply.Failure,
        Ranks = reply.Workers.Select(w => new RankView(w.Rank, w.Step, w.Loss, w.Samples, receivedAt - TimeSpan.FromSeconds(w.SecondsSinceHeard))).ToArray(),
        Results = reply.Results.Select(r => new RankResultView(r.Rank, r.FinalLoss, r.TestAccuracy, r.ParameterDigest, r.SamplesPerSecond)).ToArray(),
        MemberProcessIds = reply.MemberProcessIds.ToArray(),
        RankOfProcess = reply.MemberRanks.Count == reply.MemberProcessIds.Count
            ? reply.MemberProcessIds.Zip(reply.MemberRanks).ToDictionary(member => member.First, member => member.Second)
            : new Dictionary<int, int>(),
        LastRestart = reply.LastRestart is { } restart
            ? new RestartView(restart.Epoch, restart.Reason, restart.ReachedStep, restart.ResumeStep, restart.At.ToDateTime(),
                restart.HasLostProcessId ? restart.LostProcessId : null)
            : null,
        LastCheckpointStep = reply.LastCheckpointStep,
        LastCheckpoint = reply.LastCheckpointStep > 0 ? reply.LastCheckpoint : null,
    };
}

/// <summary>A rank's latest progress in the current epoch, and when the coordinator last heard from it (UTC).</summary>
public sealed record RankView(int Rank, int Step, double Loss, long Samples, DateTime HeardAt);

/// <summary>A finished rank's result; <see cref="SamplesPerSecond"/> is its own measure, 0 when it took fewer than two steps.</summary>
public sealed record RankResultView(int Rank, double FinalLoss, double TestAccuracy, string ParameterDigest, double SamplesPerSecond);

/// <summary>An epoch that ended early (<see cref="Reason"/>, at <see cref="At"/>, UTC) and the one that replaced it, <see cref="Epoch"/>.</summary>
/// <param name="LostProcessId">The worker process declared lost, when one was: its launcher makes sure it is gone.</param>
public sealed record RestartView(long Epoch, string Reason, long ReachedStep, long ResumeStep, DateTime At, int? LostProcessId)
{
    /// <summary>Steps trained since the last checkpoint, which the new epoch trains again.</summary>
    public long LostSteps => Math.Max(0, ReachedStep - ResumeStep);
}
