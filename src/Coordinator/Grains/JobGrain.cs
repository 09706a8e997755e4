namespace Dtrain.Coordinator.Grains;

public sealed class JobGrain : Grain, IJobGrain
{
    private readonly SortedDictionary<int, RankProgress> progress = [];
    private readonly SortedDictionary<int, RankResult> results = [];
    private long epoch = 1;
    private int restarts;
    private string? failure;

    public Task ReportProgressAsync(RankProgress report)
    {
        report = report with { HeardAt = DateTime.UtcNow };
        // Reports travel asynchronously and may overtake each other: keep the newest step, but every report is a
        // heartbeat.
        progress[report.Rank] = progress.TryGetValue(report.Rank, out var known) && known.Step > report.Step
            ? known with { HeardAt = report.HeardAt }
            : report;
        return Task.CompletedTask;
    }

    public Task FinishAsync(RankResult result)
    {
        results[result.Rank] = result;
        return Task.CompletedTask;
    }

    public Task RestartAsync(long newEpoch)
    {
        progress.Clear();
        results.Clear();
        epoch = newEpoch;
        restarts++;
        return Task.CompletedTask;
    }

    public Task FailAsync(string reason)
    {
        failure = reason;
        return Task.CompletedTask;
    }

    /// <summary>Derived from what the workers reported: a state machine without transitions to forget.</summary>
    private JobState State =>
        failure is not null ? JobState.Failed
        // Every rank that reported progress has also reported its result.
        : results.Count > 0 && results.Count >= progress.Count ? JobState.Completed
        : progress.Values.Any(p => p.Step > 0) ? JobState.Running
        : restarts > 0 ? JobState.Restarting
        : JobState.Forming;

    public Task<JobStatus> GetStatusAsync() => Task.FromResult(new JobStatus
    {
        Progress = progress.Values.ToArray(),
        Results = results.Values.ToArray(),
        State = State,
        Epoch = epoch,
        Restarts = restarts,
        Failure = failure,
    });
}
