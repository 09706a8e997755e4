namespace Dtrain.Coordinator.Grains;

/// <summary>
/// The rendezvous of one job (keyed by job id): workers join until the world is full, then each learns its rank
/// (join order) and every peer's address. Joining returns at once; workers poll for their assignment, because
/// a grain call must not wait for other workers (grain calls time out after 30 s).
/// </summary>
public interface IRendezvousGrain : IGrainWithStringKey
{
    /// <summary>Sets how many workers the job waits for. Calling it again with the same size is harmless.</summary>
    Task OpenAsync(int worldSize);

    /// <summary>Registers a worker and returns its id, or why it was refused (the world is full, or not open).</summary>
    Task<JoinOutcome> JoinAsync(WorkerRegistration registration);

    /// <summary>The worker's rank and peers, or null while the rendezvous still waits for workers.</summary>
    /// <exception cref="ArgumentException">The worker never joined.</exception>
    Task<RankAssignment?> GetAssignmentAsync(string workerId);

    Task<int> GetJoinedCountAsync();

    /// <summary>Starts the next membership epoch: the workers of the last one are forgotten, and a full world joins anew.</summary>
    /// <returns>The new epoch.</returns>
    Task<long> NewEpochAsync();
}
