namespace Dtrain.Coordinator.Grains;

/// <summary>
/// The checkpoints of one job (keyed by job id): collects each rank's shard report and commits a checkpoint, by
/// writing its manifest, once every rank of the world has reported its shard for that step.
/// </summary>
public interface ICheckpointCatalogGrain : IGrainWithStringKey
{
    Task ReportShardAsync(ShardReport report);

    /// <summary>The step of the newest checkpoint committed in this run, or 0 when none is.</summary>
    Task<long> GetLastCommittedAsync();

    /// <summary>Drops the shards of checkpoints a failed epoch left incomplete; the next epoch writes them again.</summary>
    Task ForgetPendingAsync();
}
