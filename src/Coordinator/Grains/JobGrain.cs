namespace Dtrain.Coordinator.Grains;

public sealed class JobGrain : Grain, IJobGrain
{
    private readonly SortedDictionary<int, RankProgress> progress = [];
    private readonly SortedDictionary<int, RankResult> results = [];

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

    public Task RestartAsync()
    {
        progress.Clear();
        results.Clear();
        return Task.CompletedTask;
    }

    public Task<JobStatus> GetStatusAsync() => Task.FromResult(new JobStatus
    {
        Progress = progress.Values.ToArray(),
        Results = results.Values.ToArray(),
    });
}
