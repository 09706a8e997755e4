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

    /// <summary>The step the current epoch's workers start from: in the first, the checkpoint the job resumed from (or 0); later, the one <see cref="BeginEpochAsync"/> chose.</summary>
    Task<long> GetResumeStepAsync();

    /// <summary>
    /// Drops the shards of checkpoints the last epoch left incomplete (<paramref name="epoch"/> writes them again) and
    /// chooses where it resumes: the newest whole checkpoint of this job (never another job's that shares its directory).
    /// </summary>
    /// <returns>The newer checkpoints passed over because they are not whole, each with why.</returns>
    Task<IReadOnlyList<string>> BeginEpochAsync(long epoch);
}
