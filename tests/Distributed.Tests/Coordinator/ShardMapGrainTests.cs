using Dtrain.Coordinator.Grains;

namespace Dtrain.Tests.Coordinator;

/// <summary>The shard map places each kind of work once per epoch, the same for every rank, and refuses ranks that disagree.</summary>
public sealed class ShardMapGrainTests : ClusterTest
{
    private static WorkToPlace Blocks(int rank, long[] costs, long epoch = 1, int ranks = 2) =>
        new() { Epoch = epoch, Rank = rank, Kind = "shampoo-blocks", Costs = costs, Ranks = ranks };

    [Fact]
    public async Task The_first_rank_fixes_the_placement_and_every_rank_gets_the_same_owners()
    {
        var map = Grains.GetGrain<IShardMapGrain>(Guid.NewGuid().ToString());
        long[] costs = [448, 64, 512, 512, 128, 64];

        var first = await map.PlaceAsync(Blocks(1, costs));
        var second = await map.PlaceAsync(Blocks(0, costs));

        // Longest processing time first, each to the least loaded rank: 512 -> 0, 512 -> 1, 448 -> 0 (loads 960,
        // 512), then 128, 64 and 64 all -> 1 (640, 704, 768).
        Assert.Equal(new[] { 0, 1, 0, 1, 1, 1 }, first);
        Assert.Equal(first, second);
        var placed = Assert.Single(await map.GetAsync());
        Assert.Equal((1L, 1, 2), (placed.Epoch, placed.PlacedBy, placed.Ranks));
    }

    [Fact]
    public async Task A_rank_that_describes_the_work_differently_is_refused_by_name()
    {
        var map = Grains.GetGrain<IShardMapGrain>(Guid.NewGuid().ToString());
        await map.PlaceAsync(Blocks(0, [512, 256, 128]));

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => map.PlaceAsync(Blocks(1, [512, 256, 64])));
        Assert.Equal("rank 1 describes shampoo-blocks as 3 units on 2 ranks (total cost 832), but rank 0 described 3 units on 2 ranks " +
            "(total cost 896): the ranks disagree on the model or its options", refused.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => map.PlaceAsync(Blocks(1, [512, 256, 128], ranks: 3)));
    }

    [Fact]
    public async Task Work_held_one_unit_per_rank_goes_unit_p_to_rank_p_whatever_it_costs()
    {
        var map = Grains.GetGrain<IShardMapGrain>(Guid.NewGuid().ToString());
        var cells = new WorkToPlace { Epoch = 1, Rank = 2, Kind = "grid-cells", Costs = [900, 100, 5000], Ranks = 3, CostUnit = "bytes", OnePerRank = true };

        Assert.Equal(new[] { 0, 1, 2 }, await map.PlaceAsync(cells));
        var placed = Assert.Single(await map.GetAsync());
        Assert.Equal(new long[] { 900, 100, 5000 }, placed.CostPerRank());
        Assert.Equal("bytes", placed.CostUnit);

        var tooMany = await Assert.ThrowsAsync<ArgumentException>(() => map.PlaceAsync(cells with { Costs = [4, 4, 4, 4] }));
        Assert.Equal("rank 2 has 4 grid-cells for 3 ranks, which hold one each", tooMany.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => map.PlaceAsync(cells with { OnePerRank = false }));
    }

    [Fact]
    public async Task Graph_partitions_beyond_one_per_rank_are_balanced_by_edges()
    {
        var map = Grains.GetGrain<IShardMapGrain>(Guid.NewGuid().ToString());
        var partitions = new WorkToPlace { Epoch = 1, Rank = 0, Kind = "graph-partitions", Costs = [900, 100, 5000, 300], Ranks = 3, CostUnit = "edges", OnePerRank = false };

        // Largest first, each to the least loaded rank: 5000 to rank 0, 900 to rank 1, 300 to rank 2, then 100 to rank 2.
        Assert.Equal(new[] { 1, 2, 0, 2 }, await map.PlaceAsync(partitions));
        Assert.Equal(new long[] { 5000, 900, 400 }, Assert.Single(await map.GetAsync()).CostPerRank());
    }

    [Fact]
    public async Task A_new_epoch_places_anew_and_the_old_epoch_is_told_it_is_over()
    {
        var map = Grains.GetGrain<IShardMapGrain>(Guid.NewGuid().ToString());
        Assert.Equal(new[] { 0, 1, 1 }, await map.PlaceAsync(Blocks(0, [300, 200, 100])));

        // Epoch 2 lost a worker: one rank holds every block now.
        Assert.Equal(new[] { 0, 0, 0 }, await map.PlaceAsync(Blocks(0, [300, 200, 100], epoch: 2, ranks: 1)));
        Assert.Null(await map.PlaceAsync(Blocks(1, [300, 200, 100], epoch: 1)));
        Assert.Equal(2, Assert.Single(await map.GetAsync()).Epoch);
    }
}
