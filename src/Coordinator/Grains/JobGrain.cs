namespace Dtrain.Coordinator.Grains;

public sealed class JobGrain : Grain, IJobGrain
{
    private readonly SortedDictionary<int, RankProgress> progress = [];
    private readonly SortedDictionary<int, RankResult> results = [];

    public Task ReportProgressAsync(RankProgress report)
    {
        // Reports travel asynchronously and may overtake each other: keep the newest step.
        if (!progress.TryGetValue(report.Rank, out var known) || known.Step <= report.Step)
        {
            progress[report.Rank] = report;
        }
        return Task.CompletedTask;
    }

    public Task FinishAsync(RankResult result)
    {
        results[result.Rank] = result;
        return Task.CompletedTask;
    }

    public Task<JobStatus> GetStatusAsync() => Task.FromResult(new JobStatus
    {
        Progress = progress.Values.ToArray(),
        Results = results.Values.ToArray(),
    });
}
