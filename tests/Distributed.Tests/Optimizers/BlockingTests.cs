using Dtrain.Contracts.Placement;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Shampoo.Blocking;
using Dtrain.Optimizers.Shampoo.Distributor;
using TorchSharp;
using static TorchSharp.torch;

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

    [Fact]
    public void Local_placement_balances_blocks_and_partitions_and_gives_one_cell_per_rank()
    {
        long[] costs = [448, 64, 512, 512, 128, 64];
        Assert.Equal(LongestProcessingTime.Assign(costs, 2), LocalShardPlacement.Instance.Place(new ShardedWork(ShardKind.ShampooBlocks, costs, 2)));
        // Partitions by edges, largest first: 9 to rank 0, 5 to rank 1, then 1 to rank 1.
        Assert.Equal([0, 1, 1], LocalShardPlacement.Instance.Place(new ShardedWork(ShardKind.GraphPartitions, [9, 1, 5], 2)));
        Assert.Equal([0, 1, 2, 3], LocalShardPlacement.Instance.Place(new ShardedWork(ShardKind.GridCells, [9, 1, 5, 2], 4)));
        var error = Assert.Throws<ArgumentException>(() => LocalShardPlacement.Instance.Place(new ShardedWork(ShardKind.GridCells, [9, 1, 5], 2)));
        Assert.Equal("3 grid-cells for 2 ranks, which hold one each", error.Message);
    }

    /// <summary>
    /// A [10, 7] parameter cut at 4 has four regions of equal-shaped blocks: [4,4] x2, [4,3] x2, [2,4], [2,3]. A
    /// segment gathers exactly its blocks, stacked in block order, and adds into exactly them, whether it holds its
    /// whole region or part of it (as a rank of a group does).
    /// </summary>
    [Theory]
    [InlineData(new[] { 0, 2 })]   // the two [4,4] blocks: the whole region
    [InlineData(new[] { 2 })]      // the second [4,4] block only
    [InlineData(new[] { 3 })]      // one [4,3] block of two
    [InlineData(new[] { 5 })]      // the corner [2,3]
    public void A_segment_gathers_and_updates_exactly_its_blocks(int[] picked)
    {
        long[] merged = [10, 7];
        var ranges = BlockShapes.Split(merged, 4);
        var blocks = picked.Select(i => new Block(i, 0, [.. ranges[i]])).ToArray();
        var parameter = randn(merged, generator: new Generator(41));
        using var segment = new BlockSegment(blocks, merged, 4, CPU);

        var expected = stack(blocks.Select(b => Narrow(parameter, b.Range)).ToArray());
        Assert.True(segment.Gather(parameter).eq(expected).all().item<bool>());

        var before = parameter.clone();
        var values = randn(expected.shape, generator: new Generator(42));
        segment.AddTo(parameter, values);
        using var s = new HeldScalars();
        var changed = zeros(merged, ScalarType.Bool);
        for (int b = 0; b < blocks.Length; b++)
        {
            Assert.True(Narrow(parameter, blocks[b].Range).eq(Narrow(before, blocks[b].Range).add(values[b], s.One)).all().item<bool>());
            Narrow(changed, blocks[b].Range).fill_(s.Of(1L));
        }
        Assert.True(parameter.masked_select(changed.logical_not()).eq(before.masked_select(changed.logical_not())).all().item<bool>());
    }

    private static Tensor Narrow(Tensor tensor, (long Start, long Length)[] range)
    {
        for (int d = 0; d < range.Length; d++) tensor = tensor.narrow(d, range[d].Start, range[d].Length);
        return tensor;
    }
}
