using Dtrain.Collectives;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.TensorParallel;
using Dtrain.TensorParallel.Grid;
using Dtrain.TensorParallel.Matmul;
using static Dtrain.Tests.TensorParallel.Matrices;

namespace Dtrain.Tests.TensorParallel;

public class GridTests
{
    [Theory]
    [InlineData(7, 3, new long[] { 3, 3, 1 })]
    [InlineData(4, 3, new long[] { 2, 2, 0 })]
    [InlineData(9, 3, new long[] { 3, 3, 3 })]
    [InlineData(5, 1, new long[] { 5 })]
    public void Blocks_are_ceiling_sized_and_the_last_ones_shorter(long size, int parts, long[] expected)
    {
        var layout = new BlockLayout(size, 1, parts, 1);
        Assert.Equal(expected, Enumerable.Range(0, parts).Select(layout.RowCount));
        Assert.Equal(expected.Select((_, i) => expected.Take(i).Sum()), Enumerable.Range(0, parts).Select(layout.RowStart));
    }

    [Fact]
    public async Task Ranks_sit_row_major_and_the_groups_are_the_grid_rows_and_columns()
    {
        await using var grids = await Grids.InProcessAsync(2, 3);
        var groups = await grids.RunAsync(async grid =>
        {
            var rowMembers = new long[grid.Cols];
            var columnMembers = new long[grid.Rows];
            await grid.RowGroup.AllGatherAsync<long>(new long[] { grid.Rank }, rowMembers);
            await grid.ColumnGroup.AllGatherAsync<long>(new long[] { grid.Rank }, columnMembers);
            return (grid.Row, grid.Col, RowRank: grid.RowGroup.Rank, ColumnRank: grid.ColumnGroup.Rank, rowMembers, columnMembers);
        });
        for (int rank = 0; rank < 6; rank++)
        {
            var (row, col, rowRank, columnRank, rowMembers, columnMembers) = groups[rank];
            Assert.Equal((rank / 3, rank % 3), (row, col));
            Assert.Equal((col, row), (rowRank, columnRank));
            Assert.Equal(new long[] { 3 * row, 3 * row + 1, 3 * row + 2 }, rowMembers);
            Assert.Equal(new long[] { col, 3 + col }, columnMembers);
            Assert.Equal(rank, grids.Ranks[rank].RankOf(row, col));
        }
    }

    [Fact]
    public async Task Cells_placed_on_other_ranks_carry_their_position_and_groups_with_them()
    {
        int[] owners = [4, 0, 5, 2, 1, 3];   // cell c (row-major on 2 x 3) is owned by rank owners[c]
        await using var grids = await Grids.InProcessAsync(2, 3, owners);
        var groups = await grids.RunAsync(async grid =>
        {
            var rowMembers = new long[grid.Cols];
            await grid.RowGroup.AllGatherAsync<long>(new long[] { grid.Rank }, rowMembers);
            return (grid.Row, grid.Col, RowRank: grid.RowGroup.Rank, rowMembers);
        });
        for (int cell = 0; cell < 6; cell++)
        {
            var (row, col, rowRank, rowMembers) = groups[owners[cell]];
            Assert.Equal((cell / 3, cell % 3), (row, col));
            Assert.Equal(col, rowRank);
            Assert.Equal(owners.Skip(3 * row).Take(3).Select(rank => (long)rank), rowMembers);
            Assert.Equal(owners[cell], grids.Ranks[0].RankOf(row, col));
            Assert.Equal((row, col), grids.Ranks[5].PositionOf(owners[cell]));
        }
    }

    [Fact]
    public async Task Cannon_on_cells_placed_on_other_ranks_matches_a_single_process_matmul()
    {
        var (a, b) = (Random(7, 8, seed: 13), Random(8, 5, seed: 14));
        await using var grids = await Grids.InProcessAsync(3, 3, [8, 3, 0, 6, 1, 7, 2, 5, 4]);
        var products = await grids.RunAsync(async grid =>
        {
            var (aBlock, bBlock) = (await grid.ScatterAsync(grid.Rank == 0 ? a : null), await grid.ScatterAsync(grid.Rank == 0 ? b : null));
            AssertBitwise(grid.Layout(7, 8).Slice(a, grid.Row, grid.Col), aBlock.Block, $"rank {grid.Rank}'s block of A");
            return await grid.GatherAsync((await CannonMatmul.MultiplyAsync(grid, aBlock, bBlock)).Product);
        });
        AssertClose(a.matmul(b), products[0]!, "Cannon on a permuted grid");
    }

    [Fact]
    public async Task Cell_owners_that_do_not_name_every_rank_once_are_refused_before_any_message()
    {
        var world = InProcessGroup.Create(4, Grids.Options);
        var error = await Assert.ThrowsAsync<GridException>(() => ProcessGrid.CreateAsync(world[0], 2, 2, [0, 1, 1, 3]));
        Assert.Equal("the owners of a 2 x 2 grid's cells must name each of its 4 ranks once, not [0, 1, 1, 3]", error.Message);
    }

    [Theory]
    [InlineData(1, 1, 5, 4)]
    [InlineData(2, 2, 6, 8)]
    [InlineData(3, 3, 7, 5)]
    [InlineData(3, 3, 4, 13)]   // the last grid row's blocks are empty
    [InlineData(2, 3, 9, 7)]
    public async Task Scatter_gives_each_rank_its_block_and_gather_puts_them_back(int gridRows, int gridCols, long rows, long cols)
    {
        var full = Random(rows, cols, seed: 11);
        await using var grids = await Grids.InProcessAsync(gridRows, gridCols);
        var gathered = await grids.RunAsync(async grid =>
        {
            var matrix = await grid.ScatterAsync(grid.Rank == 0 ? full : null);
            AssertBitwise(grid.Layout(rows, cols).Slice(full, grid.Row, grid.Col), matrix.Block, $"rank {grid.Rank}'s block");
            return await grid.GatherAsync(matrix);
        });
        AssertBitwise(full, gathered[0]!, "the gathered matrix");
        Assert.All(gathered.Skip(1), Assert.Null);
    }

    [Fact]
    public async Task Transposing_swaps_blocks_with_the_transposed_rank()
    {
        var full = Random(7, 5, seed: 12);
        await using var grids = await Grids.InProcessAsync(3, 3);
        var gathered = await grids.RunAsync(async grid =>
            await grid.GatherAsync(await grid.TransposeAsync(new BlockMatrix(grid.Layout(7, 5).Slice(full, grid.Row, grid.Col), 7, 5))));
        AssertBitwise(full.t(), gathered[0]!, "the transpose");
    }

    [Fact]
    public async Task A_square_grid_of_a_non_square_number_of_ranks_fails_before_any_message()
    {
        var world = InProcessGroup.Create(6, Grids.Options);
        var creating = ProcessGrid.CreateSquareAsync(world[0]);   // no other rank takes part: a message would hang
        Assert.True(creating.IsFaulted);
        var error = await Assert.ThrowsAsync<GridException>(() => creating);
        Assert.Equal("a square process grid needs a square number of ranks (1, 4, 9, 16, ...), the group has 6", error.Message);
    }

    [Fact]
    public async Task A_grid_shape_that_does_not_cover_the_group_fails_before_any_message()
    {
        var world = InProcessGroup.Create(6, Grids.Options);
        var error = await Assert.ThrowsAsync<GridException>(() => ProcessGrid.CreateAsync(world[0], 2, 2));
        Assert.Equal("a 2 x 2 process grid needs 4 ranks, the group has 6", error.Message);
    }
}
