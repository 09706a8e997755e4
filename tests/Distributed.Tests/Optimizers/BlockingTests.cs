using Dtrain.Contracts.Placement;
using Dtrain.Optimizers.Shampoo.Blocking;
using Dtrain.Optimizers.Shampoo.Distributor;

namespace Dtrain.Tests.Optimizers;

public class BlockingTests
{
    [Theory]
    [InlineData(new long[] { 32, 3, 64, 64 }, 8192, new long[] { 96, 4096 })]
    [InlineData(new long[] { 1 }, 1024, new long[] { 1 })]
    [InlineData(new long[] { 1, 1 }, 1024, new long[] { 1 })]
    [InlineData(new long[] { 4096, 1, 4096 }, 1024, new long[] { 4096, 4096 })]
    [InlineData(new long[] { 10, 20, 30 }, 1024, new long[] { 10, 600 })]
    [InlineData(new long[] { 10, 20, 30 }, 6000, new long[] { 6000 })]
    public void Merging_drops_ones_and_joins_dims_from_the_last(long[] shape, long max, long[] expected) =>
        Assert.Equal(expected, BlockShapes.Merge(shape, max));

    [Fact]
    public void Splitting_cuts_every_dim_into_chunks_in_row_major_order()
    {
        var blocks = BlockShapes.Split([5, 3], 2);
        Assert.Equal(
            new[] { "0+2,0+2", "0+2,2+1", "2+2,0+2", "2+2,2+1", "4+1,0+2", "4+1,2+1" },
            blocks.Select(b => string.Join(",", b.Select(d => $"{d.Start}+{d.Length}"))));
        Assert.Single(BlockShapes.Split([7], 7));
    }

    [Fact]
    public void Longest_processing_time_balances_and_is_deterministic()
    {
        long[] costs = [BlockAssignment.Cost(100, 4), 64, 512, 512, 128, 64];   // 100 floats cost 448
        Assert.Equal(448, costs[0]);
        var owners = LongestProcessingTime.Assign(costs, 2);
        // Sorted: 512 (block 2) -> rank 0, 512 (3) -> 1, 448 (0) -> 0 (tie, lowest rank), then 128 (4), 64 (1)
        // and 64 (5) all go to rank 1, the lighter one.
        Assert.Equal([0, 1, 0, 1, 1, 1], owners);
        long[] load = [0, 0];
        for (int i = 0; i < costs.Length; i++) load[owners[i]] += costs[i];
        Assert.Equal([960, 768], load);
        Assert.Equal(owners, LongestProcessingTime.Assign(costs, 2));
        Assert.All(LongestProcessingTime.Assign(costs, 1), owner => Assert.Equal(0, owner));
        // More ranks than blocks: some ranks own nothing.
        Assert.Equal([0, 1], LongestProcessingTime.Assign([64, 64], 3));
    }
}
