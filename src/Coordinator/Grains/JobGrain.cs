using Dtrain.Telemetry;

namespace Dtrain.Coordinator.Grains;

public sealed class JobGrain(CoordinatorOptions options, [PersistentState("job")] IPersistentState<JobGrain.Record> stored) : Grain, IJobGrain
{
    /// <summary>What outlives the coordinator process (in Redis mode): the epochs and results, not the per-second progress.</summary>
    [GenerateSerializer]
    public sealed class Record
    {
        [Id(0)] public long Epoch { get; set; } = 1;
        [Id(1)] public int Restarts { get; set; }
        [Id(2)] public string? Failure { get; set; }
        [Id(3)] public EpochRestart? LastRestart { get; set; }
        [Id(4)] public SortedDictionary<int, RankResult> Results { get; set; } = [];
    }

    private readonly SortedDictionary<int, RankProgress> progress = [];
    /// <summary>The restarts this activation has added to the process's counter: a coordinator that takes over a job adds the ones before it once.</summary>
    private int countedRestarts;
    private Record State => stored.State;

    private string JobId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken ct)
    {
        PublishMetrics();
        return Task.CompletedTask;
    }

    public Task<long> ReportProgressAsync(RankProgress report)
    {
        if (report.Epoch != State.Epoch) return Task.FromResult(State.Epoch);
        report = report with { HeardAt = DateTime.UtcNow };
        // Reports travel asynchronously and may overtake each other: keep the newest step, but every report is a
        // heartbeat.
        progress[report.Rank] = progress.TryGetValue(report.Rank, out var known) && known.Step > report.Step
            ? known with { HeardAt = report.HeardAt }
            : report;
        PublishMetrics();
        return Task.FromResult(State.Epoch);
    }

    public async Task<bool> FinishAsync(RankResult result)
    {
        if (result.Epoch != State.Epoch) return false;
        State.Results[result.Rank] = result;
        await stored.WriteStateAsync();
        PublishMetrics();
        return true;
    }

    public async Task EndEpochAsync(long ended, string reason, int? lostProcessId = null)
    {
        if (ended != State.Epoch || JobState is JobState.Failed or JobState.Completed) return;
        if (++State.Restarts > options.Job.Elastic.MaxRestarts)
        {
            State.Failure = options.Job.Elastic.MaxRestarts == 0 ? reason : $"{reason}; no restart left (max restarts {options.Job.Elastic.MaxRestarts})";
            await stored.WriteStateAsync();
            PublishMetrics();
            return;
        }
        await OpenNextEpochAsync(reason, lostProcessId);
    }

    public async Task ProcessExitedAsync(int processId, string reason)
    {
        var members = await GrainFactory.GetGrain<IRendezvousGrain>(JobId).GetMemberProcessIdsAsync();
        if (members.Contains(processId)) await EndEpochAsync(State.Epoch, reason, processId);
    }

    public async Task GrowAsync()
    {
        if (JobState is JobState.Failed or JobState.Completed) return;
        await OpenNextEpochAsync($"a worker joined epoch {State.Epoch}, which trained with fewer than {options.Job.Workers} workers", null);
    }

    private async Task OpenNextEpochAsync(string reason, int? lostProcessId)
    {
        long next = await GrainFactory.GetGrain<IRendezvousGrain>(JobId).NewEpochAsync();
        var checkpoints = GrainFactory.GetGrain<ICheckpointCatalogGrain>(JobId);
        var skipped = await checkpoints.BeginEpochAsync(next);
        long resume = await checkpoints.GetResumeStepAsync();
        // Progress reports lag the step a committed checkpoint proves was reached.
        long reached = Math.Max(resume, progress.Count == 0 ? 0 : progress.Values.Max(p => p.Step));
        State.LastRestart = new EpochRestart
        {
            Epoch = next,
            Reason = skipped.Count == 0 ? reason : $"{reason}; {string.Join("; ", skipped)}",
            ReachedStep = reached,
            ResumeStep = resume,
            At = DateTime.UtcNow,
            LostProcessId = lostProcessId,
        };
        progress.Clear();
        State.Results.Clear();
        State.Epoch = next;
        await stored.WriteStateAsync();
        PublishMetrics();
    }

    public async Task FailAsync(string reason)
    {
        State.Failure ??= reason;
        await stored.WriteStateAsync();
        PublishMetrics();
    }

    /// <summary>Derived from what the workers reported: a state machine without transitions to forget.</summary>
    private JobState JobState =>
        State.Failure is not null ? JobState.Failed
        : State.Results.Count > 0 && State.Results.Count == State.Results.Values.First().WorldSize ? JobState.Completed
        : progress.Values.Any(p => p.Step > 0) ? JobState.Running
        : State.LastRestart is not null ? JobState.Restarting
        : JobState.Forming;

    /// <summary>The dtrain_job_* series say what <see cref="GetStatusAsync"/> would: state, epoch and restarts.</summary>
    private void PublishMetrics()
    {
        var current = JobState;
        foreach (var state in Enum.GetValues<JobState>())
        {
            DtrainMetrics.JobState.WithLabels(state.ToString().ToLowerInvariant()).Set(state == current ? 1 : 0);
        }
        DtrainMetrics.JobEpoch.Set(State.Epoch);
        DtrainMetrics.JobRestarts.Inc(State.Restarts - countedRestarts);
        countedRestarts = State.Restarts;
    }

    public Task<JobStatus> GetStatusAsync() => Task.FromResult(new JobStatus
    {
        Progress = progress.Values.ToArray(),
        Results = State.Results.Values.ToArray(),
        State = JobState,
        Epoch = State.Epoch,
        Restarts = State.Restarts,
        Failure = State.Failure,
        LastRestart = State.LastRestart,
    });
}
