namespace Dtrain.Coordinator.Grains;

/// <summary>
/// The checkpoints of one job (keyed by job id): collects each rank's shard report and commits a checkpoint, by
/// writing its manifest, once every rank of the world has reported its shard for that step.
/// </summary>
public interface ICheckpointCatalogGrain : IGrainWithStringKey
{
    /// <returns>False when the report's epoch is over: its shards can no longer make a whole checkpoint.</returns>
    /// <exception cref="ArgumentException">The report cannot be right (a rank outside the world, a duplicate, an old step).</exception>
    Task<bool> ReportShardAsync(ShardReport report);

    /// <summary>The step of the newest checkpoint committed in this run, or 0 when none is.</summary>
    Task<long> GetLastCommittedAsync();

    /// <summary>The step the current epoch's workers start from: what <see cref="BeginEpochAsync"/> chose, else the one the job resumed from (or 0).</summary>
    Task<long> GetResumeStepAsync();

    /// <summary>
    /// Drops the shards of checkpoints the last epoch left incomplete (<paramref name="epoch"/> writes them again) and
    /// chooses the step its workers start from: the newest whole checkpoint of this job, passing over one found
    /// corrupted or gone.
    /// </summary>
    Task<EpochResume> BeginEpochAsync(long epoch);
}
