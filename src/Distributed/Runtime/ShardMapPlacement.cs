using Dtrain.Contracts.Placement;

namespace Dtrain.Distributed.Runtime;

/// <summary>Placement by the coordinator's shard map, which records each kind's placement for the epoch and reports it.</summary>
internal sealed class ShardMapPlacement(CoordinatorLink coordinator, Epoch epoch) : IShardPlacement
{
    public Task<int[]> PlaceAsync(ShardedWork work, CancellationToken ct) => coordinator.PlaceShardsAsync(epoch, work, ct);
}
