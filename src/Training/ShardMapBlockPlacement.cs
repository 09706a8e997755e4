using Dtrain.Distributed;
using Dtrain.Optimizers.Shampoo.Distributor;

namespace Dtrain.Training;

/// <summary>Places Shampoo's blocks through the coordinator's shard map, which records and reports the placement.</summary>
public sealed class ShardMapBlockPlacement(DistributedContext context) : IBlockPlacement
{
    public Task<int[]> PlaceAsync(IReadOnlyList<long> costs, int ranks, CancellationToken ct) =>
        context.PlaceShardsAsync(new ShardedWork("shampoo-blocks", costs, ranks, "bytes"), ct);
}
