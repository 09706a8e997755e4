namespace Dtrain.Coordinator.Grains;

/// <summary>
/// The rendezvous of one job (keyed by job id), epoch by epoch: workers join until the epoch's world is complete
/// (see <see cref="RendezvousRules"/>), then each learns its rank (join order) and every peer's address. Joining
/// returns at once; workers poll for their assignment, because a grain call must not wait for other workers
/// (grain calls time out after 30 s).
/// </summary>
public interface IRendezvousGrain : IGrainWithStringKey
{
    /// <summary>Sets the rules the job's epochs form by. Calling it again with the same rules is harmless.</summary>
    Task OpenAsync(RendezvousRules rules);

    /// <summary>Registers a worker in the current epoch and returns its id, or why it was refused.</summary>
    Task<JoinOutcome> JoinAsync(WorkerRegistration registration);

    /// <summary>The worker's rank and peers, or null while the epoch still waits for workers.</summary>
    /// <exception cref="ArgumentException">The worker never joined the current epoch.</exception>
    /// <exception cref="TimeoutException">The epoch did not reach its minimum of workers within the join timeout.</exception>
    Task<RankAssignment?> GetAssignmentAsync(string workerId);

    /// <summary>
    /// Whether a call comes from the member it claims to be: a worker id the rendezvous gave, of the epoch, rank and
    /// world size it names (those it leaves out are not checked).
    /// </summary>
    Task<Membership> CheckMemberAsync(MemberClaim claim);

    /// <summary>The workers that joined the current epoch.</summary>
    Task<IReadOnlyList<string>> GetWorkerIdsAsync();

    /// <summary>The process ids of the workers that joined the current epoch.</summary>
    Task<IReadOnlyList<int>> GetMemberProcessIdsAsync();

    /// <summary>The rank of each process of <see cref="GetMemberProcessIdsAsync"/>, in its order, once the epoch's world is complete; empty before.</summary>
    Task<IReadOnlyList<int>> GetMemberRanksAsync();

    /// <summary>Starts the next membership epoch: the workers of the last one are forgotten, and a world joins anew.</summary>
    /// <returns>The new epoch.</returns>
    Task<long> NewEpochAsync();
}
