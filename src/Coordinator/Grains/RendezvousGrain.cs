using Dtrain.Telemetry;

namespace Dtrain.Coordinator.Grains;

public sealed class RendezvousGrain([PersistentState("rendezvous")] IPersistentState<RendezvousGrain.Record> stored) : Grain, IRendezvousGrain
{
    [GenerateSerializer]
    public sealed class Record
    {
        [Id(0)] public RendezvousRules? Rules { get; set; }
        [Id(1)] public long Epoch { get; set; } = 1;
        [Id(2)] public DateTime OpenedAt { get; set; } = DateTime.UtcNow;
        [Id(3)] public DateTime? MinimumReachedAt { get; set; }
        [Id(4)] public List<JoinedWorker> Joined { get; set; } = [];
        /// <summary>Each joined worker's rank, once the epoch's world is complete; null while it forms.</summary>
        [Id(5)] public int[]? Ranks { get; set; }
        /// <summary>The workers of ended epochs, by worker id: their late calls are told the epoch is over, not refused as strangers'.</summary>
        [Id(6)] public Dictionary<string, Member> Former { get; set; } = [];
    }

    /// <summary>A worker's place: its epoch, its rank once the epoch's world was complete, and that world's size.</summary>
    [GenerateSerializer, Immutable]
    public sealed record Member([property: Id(0)] long Epoch, [property: Id(1)] int? Rank, [property: Id(2)] int WorldSize);

    [GenerateSerializer, Immutable]
    public sealed record JoinedWorker([property: Id(0)] string WorkerId, [property: Id(1)] WorkerRegistration Registration);

    private Record State => stored.State;

    /// <summary>Fires at the forming epoch's join timeout, whether or not a worker is there to poll for its rank.</summary>
    private IGrainTimer? joinDeadline;

    public override Task OnActivateAsync(CancellationToken ct)
    {
        // A coordinator that takes over a forming epoch (Redis mode) keeps its deadline.
        WatchJoinTimeout();
        return Task.CompletedTask;
    }

    public async Task OpenAsync(RendezvousRules rules)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rules.MinWorkers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rules.MaxWorkers, rules.MinWorkers);
        DtrainMetrics.WorldSize.Set(rules.MaxWorkers);
        if (State.Rules == rules) return;
        if (State.Rules is { } open)
        {
            throw new InvalidOperationException($"the rendezvous is already open for {Describe(open)}, not {Describe(rules)}");
        }
        State.Rules = rules;
        State.OpenedAt = DateTime.UtcNow;
        await stored.WriteStateAsync();
        WatchJoinTimeout();
    }

    /// <summary>Sets the current epoch's deadline: still short of its minimum at the join timeout, the job fails.</summary>
    private void WatchJoinTimeout()
    {
        joinDeadline?.Dispose();
        joinDeadline = null;
        if (State.Rules is not { } rules || State.Ranks is not null) return;
        var due = State.OpenedAt + rules.JoinTimeout - DateTime.UtcNow;
        long epoch = State.Epoch;
        joinDeadline = this.RegisterGrainTimer(_ =>
        {
            if (epoch == State.Epoch && State.Ranks is null && State.Joined.Count < rules.MinWorkers)
            {
                // Not awaited: the job grain may be waiting on this one (opening a new epoch), and it records the failure alone.
                GrainFactory.GetGrain<IJobGrain>(this.GetPrimaryKeyString()).FailAsync(TimedOut(rules)).Ignore();
            }
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private string TimedOut(RendezvousRules rules) =>
        $"epoch {State.Epoch} has {State.Joined.Count} of its minimum {rules.MinWorkers} workers after {rules.JoinTimeout.TotalSeconds:0.#} s";

    private static string Describe(RendezvousRules rules) =>
        rules.MinWorkers == rules.MaxWorkers ? $"{rules.MaxWorkers} workers" : $"{rules.MinWorkers} to {rules.MaxWorkers} workers";

    public async Task<JoinOutcome> JoinAsync(WorkerRegistration registration)
    {
        if (Refusal(registration) is { } refused) return refused;
        string workerId = Guid.NewGuid().ToString("N");
        State.Joined.Add(new JoinedWorker(workerId, registration));
        if (State.Joined.Count == State.Rules!.MinWorkers) State.MinimumReachedAt = DateTime.UtcNow;
        await stored.WriteStateAsync();
        DtrainMetrics.RegisteredWorkers.Set(State.Joined.Count);
        return JoinOutcome.Joined(workerId);
    }

    private JoinOutcome? Refusal(WorkerRegistration registration)
    {
        if (State.Rules is not { } rules) return JoinOutcome.Refused("the job's rendezvous is not open yet");
        if (State.Joined.Count == rules.MaxWorkers) return JoinOutcome.Refused($"the job already has its {rules.MaxWorkers} workers");
        if (State.Ranks is not null)
        {
            return JoinOutcome.Refused($"epoch {State.Epoch} already trains with {State.Joined.Count} workers") with { CouldGrow = true };
        }
        if (registration.RequestedRank is { } requested)
        {
            if (requested < 0 || requested >= rules.MaxWorkers)
            {
                return JoinOutcome.Refused($"rank {requested} is not a rank of a job of {rules.MaxWorkers} workers");
            }
            if (State.Joined.Any(w => w.Registration.RequestedRank == requested)) return JoinOutcome.Refused($"rank {requested} is already taken");
        }
        return null;
    }

    public async Task<RankAssignment?> GetAssignmentAsync(string workerId)
    {
        var joined = State.Joined;
        int index = joined.FindIndex(w => w.WorkerId == workerId);
        if (index < 0) throw new ArgumentException($"unknown worker id '{workerId}' (not a worker of epoch {State.Epoch})", nameof(workerId));
        var ranks = State.Ranks ?? await TryCompleteAsync();
        if (ranks is null) return null;
        var addresses = new string[joined.Count];
        for (int i = 0; i < joined.Count; i++) addresses[ranks[i]] = joined[i].Registration.PeerAddress;
        return new RankAssignment
        {
            Rank = ranks[index], Epoch = State.Epoch, PeerAddresses = addresses, ProcessId = joined[index].Registration.ProcessId,
        };
    }

    /// <summary>Completes the epoch's world when the rules say it is complete; null while it still forms.</summary>
    private async Task<int[]?> TryCompleteAsync()
    {
        var (rules, joined, now) = (State.Rules!, State.Joined, DateTime.UtcNow);
        bool complete = joined.Count == rules.MaxWorkers
            || (State.MinimumReachedAt is { } reached && now - reached >= rules.LastCall);
        if (!complete)
        {
            if (now - State.OpenedAt > rules.JoinTimeout)
            {
                throw new TimeoutException(TimedOut(rules));
            }
            return null;
        }
        // The requested rank (a launcher such as mpiexec or an Indexed Job numbered the worker), else the lowest free
        // one, in join order. An epoch short of workers has fewer ranks than the launcher numbered: a requested rank
        // beyond them is free to renumber.
        int? Kept(JoinedWorker w) => w.Registration.RequestedRank is { } requested && requested < joined.Count ? requested : null;
        var free = new Queue<int>(Enumerable.Range(0, joined.Count).Except(joined.Select(w => Kept(w) ?? -1)));
        State.Ranks = joined.Select(w => Kept(w) ?? free.Dequeue()).ToArray();
        await stored.WriteStateAsync();
        DtrainMetrics.WorldSize.Set(joined.Count);
        return State.Ranks;
    }

    public Task<IReadOnlyList<int>> GetMemberProcessIdsAsync() =>
        Task.FromResult<IReadOnlyList<int>>(State.Joined.Select(w => w.Registration.ProcessId).ToArray());

    public Task<IReadOnlyList<int>> GetMemberRanksAsync() => Task.FromResult<IReadOnlyList<int>>(State.Ranks ?? []);

    public Task<IReadOnlyList<string>> GetWorkerIdsAsync() => Task.FromResult<IReadOnlyList<string>>(State.Joined.Select(w => w.WorkerId).ToArray());

    public Task<Membership> CheckMemberAsync(MemberClaim claim)
    {
        string id = claim.WorkerId;
        if (MemberOf(id) is not { } member) return Refused(MembershipKind.NotMember, $"unknown worker '{id}'");
        if (claim.Epoch is { } epoch)
        {
            if (epoch < 1 || epoch > State.Epoch)
            {
                return Refused(MembershipKind.Invalid, $"epoch {epoch} is not an epoch of this job (the current one is {State.Epoch})");
            }
            if (epoch != member.Epoch) return Refused(MembershipKind.NotMember, $"worker '{id}' is not a member of epoch {epoch}");
        }
        if (claim.Rank is { } rank)
        {
            if (member.Rank is not { } own) return Refused(MembershipKind.NotMember, $"worker '{id}' has no rank in epoch {member.Epoch}");
            if (rank < 0 || rank >= member.WorldSize)
            {
                return Refused(MembershipKind.Invalid, $"rank {rank} is not a rank of epoch {member.Epoch} ({member.WorldSize} workers)");
            }
            if (rank != own) return Refused(MembershipKind.NotMember, $"worker '{id}' is rank {own} of epoch {member.Epoch}, not rank {rank}");
        }
        if (claim.WorldSize is { } world && member.Rank is not null && world != member.WorldSize)
        {
            return Refused(MembershipKind.Invalid, $"epoch {member.Epoch} has {member.WorldSize} workers, not {world}");
        }
        return Task.FromResult(new Membership(member.Epoch == State.Epoch ? MembershipKind.Current : MembershipKind.Ended));
    }

    private static Task<Membership> Refused(MembershipKind kind, string reason) => Task.FromResult(new Membership(kind, reason));

    private Member? MemberOf(string workerId)
    {
        int index = State.Joined.FindIndex(w => w.WorkerId == workerId);
        if (index >= 0) return new Member(State.Epoch, State.Ranks?[index], State.Joined.Count);
        return State.Former.GetValueOrDefault(workerId);
    }

    public async Task<long> NewEpochAsync()
    {
        for (int i = 0; i < State.Joined.Count; i++)
        {
            State.Former[State.Joined[i].WorkerId] = new Member(State.Epoch, State.Ranks?[i], State.Joined.Count);
        }
        State.Joined.Clear();
        State.Ranks = null;
        State.MinimumReachedAt = null;
        State.OpenedAt = DateTime.UtcNow;
        State.Epoch++;
        await stored.WriteStateAsync();
        WatchJoinTimeout();
        DtrainMetrics.RegisteredWorkers.Set(0);
        return State.Epoch;
    }
}
