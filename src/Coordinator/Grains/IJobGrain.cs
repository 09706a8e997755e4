namespace Dtrain.Coordinator.Grains;

/// <summary>
/// One training job (keyed by job id): its epochs, restarts and state, and the progress and results its workers
/// report. Ending an epoch opens the next one at the rendezvous, whose workers resume from the newest committed
/// checkpoint.
/// </summary>
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Records a rank's progress (and heartbeat) if it is of the current epoch.</summary>
    /// <returns>The job's current epoch.</returns>
    Task<long> ReportProgressAsync(RankProgress progress);

    /// <returns>False when the result's epoch is over: that rank must train on in the current one.</returns>
    Task<bool> FinishAsync(RankResult result);

    Task<JobStatus> GetStatusAsync();

    /// <summary>
    /// Ends <paramref name="epoch"/> because it failed and opens the next one, or fails the job when no restart is
    /// left. Nothing happens when that epoch is already over: each of its workers may report the same failure.
    /// </summary>
    /// <param name="lostProcessId">The worker process declared lost, if one was.</param>
    Task EndEpochAsync(long epoch, string reason, int? lostProcessId = null);

    /// <summary>Ends the current epoch if the process is one of its workers: it exited while training.</summary>
    Task ProcessExitedAsync(int processId, string reason);

    /// <summary>Ends the current epoch, which trains with fewer than the most workers, so that a waiting worker can join the next.</summary>
    Task GrowAsync();

    /// <summary>The job has failed for good.</summary>
    Task FailAsync(string reason);
}
