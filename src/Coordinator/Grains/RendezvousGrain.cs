using Dtrain.Telemetry;

namespace Dtrain.Coordinator.Grains;

public sealed class RendezvousGrain : Grain, IRendezvousGrain
{
    private readonly List<(string WorkerId, WorkerRegistration Registration)> joined = [];
    private RendezvousRules? rules;
    private long epoch = 1;
    private DateTime openedAt = DateTime.UtcNow;
    private DateTime? minimumReachedAt;
    /// <summary>Each joined worker's rank, once the epoch's world is complete; null while it forms.</summary>
    private int[]? ranks;

    public Task OpenAsync(RendezvousRules newRules)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(newRules.MinWorkers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(newRules.MaxWorkers, newRules.MinWorkers);
        if (rules is not null && rules != newRules)
        {
            throw new InvalidOperationException($"the rendezvous is already open for {Describe(rules)}, not {Describe(newRules)}");
        }
        rules = newRules;
        openedAt = DateTime.UtcNow;
        DtrainMetrics.WorldSize.Set(newRules.MaxWorkers);
        return Task.CompletedTask;
    }

    private static string Describe(RendezvousRules rules) =>
        rules.MinWorkers == rules.MaxWorkers ? $"{rules.MaxWorkers} workers" : $"{rules.MinWorkers} to {rules.MaxWorkers} workers";

    public Task<JoinOutcome> JoinAsync(WorkerRegistration registration) => Task.FromResult(Join(registration));

    private JoinOutcome Join(WorkerRegistration registration)
    {
        if (rules is null) return JoinOutcome.Refused("the job's rendezvous is not open yet");
        if (joined.Count == rules.MaxWorkers) return JoinOutcome.Refused($"the job already has its {rules.MaxWorkers} workers");
        if (ranks is not null)
        {
            return JoinOutcome.Refused($"epoch {epoch} already trains with {joined.Count} workers") with { CouldGrow = true };
        }
        if (registration.RequestedRank is { } requested)
        {
            if (requested < 0 || requested >= rules.MaxWorkers)
            {
                return JoinOutcome.Refused($"rank {requested} is not a rank of a job of {rules.MaxWorkers} workers");
            }
            if (joined.Any(w => w.Registration.RequestedRank == requested)) return JoinOutcome.Refused($"rank {requested} is already taken");
        }
        string workerId = Guid.NewGuid().ToString("N");
        joined.Add((workerId, registration));
        if (joined.Count == rules.MinWorkers) minimumReachedAt = DateTime.UtcNow;
        DtrainMetrics.RegisteredWorkers.Set(joined.Count);
        return JoinOutcome.Joined(workerId);
    }

    public Task<RankAssignment?> GetAssignmentAsync(string workerId)
    {
        int index = joined.FindIndex(w => w.WorkerId == workerId);
        if (index < 0) throw new ArgumentException($"unknown worker id '{workerId}' (not a worker of epoch {epoch})", nameof(workerId));
        var complete = ranks ?? TryComplete();
        if (complete is null) return Task.FromResult<RankAssignment?>(null);
        var addresses = new string[joined.Count];
        for (int i = 0; i < joined.Count; i++) addresses[complete[i]] = joined[i].Registration.PeerAddress;
        return Task.FromResult<RankAssignment?>(new RankAssignment
        {
            Rank = complete[index], Epoch = epoch, PeerAddresses = addresses, ProcessId = joined[index].Registration.ProcessId,
        });
    }

    /// <summary>Completes the epoch's world when the rules say it is complete; null while it still forms.</summary>
    private int[]? TryComplete()
    {
        var now = DateTime.UtcNow;
        bool complete = joined.Count == rules!.MaxWorkers
            || (minimumReachedAt is { } reached && now - reached >= rules.LastCall);
        if (!complete)
        {
            if (now - openedAt > rules.JoinTimeout)
            {
                throw new TimeoutException(
                    $"epoch {epoch} has {joined.Count} of its minimum {rules.MinWorkers} workers after {rules.JoinTimeout.TotalSeconds:0.#} s");
            }
            return null;
        }
        // The requested rank (a launcher such as mpiexec numbered the worker), else the lowest free one, in join order.
        var free = new Queue<int>(Enumerable.Range(0, joined.Count).Except(joined.Select(w => w.Registration.RequestedRank ?? -1)));
        ranks = joined.Select(w => w.Registration.RequestedRank ?? free.Dequeue()).ToArray();
        DtrainMetrics.WorldSize.Set(joined.Count);
        return ranks;
    }

    public Task<int> GetJoinedCountAsync() => Task.FromResult(joined.Count);

    public Task<bool> IsMemberAsync(int processId) => Task.FromResult(joined.Any(w => w.Registration.ProcessId == processId));

    public Task<long> NewEpochAsync()
    {
        joined.Clear();
        ranks = null;
        minimumReachedAt = null;
        openedAt = DateTime.UtcNow;
        DtrainMetrics.RegisteredWorkers.Set(0);
        return Task.FromResult(++epoch);
    }
}
