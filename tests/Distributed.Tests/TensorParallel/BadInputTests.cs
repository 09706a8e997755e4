using Dtrain.TensorParallel;
using Dtrain.TensorParallel.Grid;
using Dtrain.TensorParallel.Layers;
using Dtrain.TensorParallel.Matmul;
using static Dtrain.Tests.TensorParallel.Matrices;
using static TorchSharp.torch;

namespace Dtrain.Tests.TensorParallel;

/// <summary>
/// Bad input is found on the rank before it sends anything: each case runs on rank 0 alone, so a message would
/// hang, and the returned task has already failed.
/// </summary>
public class BadInputTests
{
    [Fact]
    public async Task Inner_dimensions_that_differ()
    {
        await using var grids = await Grids.InProcessAsync(2, 2);
        var a = new BlockMatrix(Random(3, 3, seed: 1), 5, 6);
        var b = new BlockMatrix(Random(2, 2, seed: 2), 4, 4);
        await AssertFailsAtOnce(CannonMatmul.MultiplyAsync(grids.Ranks[0], a, b),
            "cannot multiply A (5 x 6) by B (4 x 4): the inner dimensions 6 and 4 differ");
    }

    [Fact]
    public async Task A_block_of_the_wrong_shape_for_its_grid_position()
    {
        await using var grids = await Grids.InProcessAsync(2, 2);
        var a = new BlockMatrix(Random(3, 3, seed: 3), 5, 6);
        var b = new BlockMatrix(Random(2, 2, seed: 4), 6, 4);
        await AssertFailsAtOnce(SummaMatmul.MultiplyAsync(grids.Ranks[0], a, b),
            "B's block on rank 0 (grid row 0, column 0) has shape [2, 2], but a 6 x 4 matrix on a 2 x 2 grid puts a 3 x 2 block there");
    }

    [Fact]
    public async Task Blocks_of_different_types()
    {
        await using var grids = await Grids.InProcessAsync(1, 2);
        var a = new BlockMatrix(Random(3, 2, seed: 5), 3, 4);
        var b = new BlockMatrix(Random(4, 1, seed: 6).to(ScalarType.Float64), 4, 2);
        var failing = AllGatherMatmul.MultiplyAsync(grids.Ranks[0], a, b);
        Assert.True(failing.IsFaulted);
        var error = await Assert.ThrowsAsync<GridException>(() => failing);
        Assert.StartsWith("A's block is Float32 on ", error.Message);
        Assert.Contains("B's is Float64 on ", error.Message);
    }

    [Fact]
    public async Task Cannon_on_a_grid_that_is_not_square()
    {
        await using var grids = await Grids.InProcessAsync(2, 3);
        var a = new BlockMatrix(Random(2, 2, seed: 7), 4, 6);
        var b = new BlockMatrix(Random(3, 2, seed: 8), 6, 6);
        await AssertFailsAtOnce(CannonMatmul.MultiplyAsync(grids.Ranks[0], a, b),
            "Cannon's algorithm needs a square process grid, not 2 x 3; SUMMA works on any grid");
    }

    [Fact]
    public async Task An_input_of_the_wrong_width_for_a_CannonLinear()
    {
        await using var grids = await Grids.InProcessAsync(2, 2);
        var grid = grids.Ranks[0];
        using var layer = new CannonLinear(grid, new BlockMatrix(Random(3, 2, seed: 9), 6, 4));
        var error = Assert.Throws<GridException>(() => layer.forward(new BlockMatrix(Random(4, 3, seed: 10), 8, 5)));
        Assert.Equal("CannonLinear takes 6 input features, got a 8 x 5 input", error.Message);
    }

    private static async Task AssertFailsAtOnce(Task task, string message)
    {
        Assert.True(task.IsFaulted, $"expected an immediate failure: {message}");
        var error = await Assert.ThrowsAsync<GridException>(() => task);
        Assert.Equal(message, error.Message);
    }
}
