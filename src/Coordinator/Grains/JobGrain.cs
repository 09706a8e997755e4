namespace Dtrain.Coordinator.Grains;

public sealed class JobGrain(CoordinatorOptions options) : Grain, IJobGrain
{
    private readonly SortedDictionary<int, RankProgress> progress = [];
    private readonly SortedDictionary<int, RankResult> results = [];
    private long epoch = 1;
    private int restarts;
    private string? failure;
    private EpochRestart? lastRestart;

    private string JobId => this.GetPrimaryKeyString();

    public Task<long> ReportProgressAsync(RankProgress report)
    {
        if (report.Epoch != epoch) return Task.FromResult(epoch);
        report = report with { HeardAt = DateTime.UtcNow };
        // Reports travel asynchronously and may overtake each other: keep the newest step, but every report is a
        // heartbeat.
        progress[report.Rank] = progress.TryGetValue(report.Rank, out var known) && known.Step > report.Step
            ? known with { HeardAt = report.HeardAt }
            : report;
        return Task.FromResult(epoch);
    }

    public Task<bool> FinishAsync(RankResult result)
    {
        if (result.Epoch != epoch) return Task.FromResult(false);
        results[result.Rank] = result;
        return Task.FromResult(true);
    }

    public async Task EndEpochAsync(long ended, string reason, int? lostProcessId = null)
    {
        if (ended != epoch || State is JobState.Failed or JobState.Completed) return;
        if (++restarts > options.Job.MaxRestarts)
        {
            failure = options.Job.MaxRestarts == 0 ? reason : $"{reason}; no restart left (max restarts {options.Job.MaxRestarts})";
            return;
        }
        await OpenNextEpochAsync(reason, lostProcessId);
    }

    public async Task ProcessExitedAsync(int processId, string reason)
    {
        if (await GrainFactory.GetGrain<IRendezvousGrain>(JobId).IsMemberAsync(processId)) await EndEpochAsync(epoch, reason, processId);
    }

    public async Task GrowAsync()
    {
        if (State is JobState.Failed or JobState.Completed) return;
        await OpenNextEpochAsync($"a worker joined epoch {epoch}, which trained with fewer than {options.Job.Workers} workers", null);
    }

    private async Task OpenNextEpochAsync(string reason, int? lostProcessId)
    {
        long reached = progress.Count == 0 ? 0 : progress.Values.Max(p => p.Step);
        long next = await GrainFactory.GetGrain<IRendezvousGrain>(JobId).NewEpochAsync();
        var checkpoints = GrainFactory.GetGrain<ICheckpointCatalogGrain>(JobId);
        await checkpoints.BeginEpochAsync(next);
        lastRestart = new EpochRestart
        {
            Epoch = next,
            Reason = reason,
            ReachedStep = reached,
            ResumeStep = Math.Max(options.Job.ResumeStep, await checkpoints.GetLastCommittedAsync()),
            At = DateTime.UtcNow,
            LostProcessId = lostProcessId,
        };
        progress.Clear();
        results.Clear();
        epoch = next;
    }

    public Task FailAsync(string reason)
    {
        failure ??= reason;
        return Task.CompletedTask;
    }

    /// <summary>Derived from what the workers reported: a state machine without transitions to forget.</summary>
    private JobState State =>
        failure is not null ? JobState.Failed
        : results.Count > 0 && results.Count == results.Values.First().WorldSize ? JobState.Completed
        : progress.Values.Any(p => p.Step > 0) ? JobState.Running
        : lastRestart is not null ? JobState.Restarting
        : JobState.Forming;

    public Task<JobStatus> GetStatusAsync() => Task.FromResult(new JobStatus
    {
        Progress = progress.Values.ToArray(),
        Results = results.Values.ToArray(),
        State = State,
        Epoch = epoch,
        Restarts = restarts,
        Failure = failure,
        LastRestart = lastRestart,
    });
}
