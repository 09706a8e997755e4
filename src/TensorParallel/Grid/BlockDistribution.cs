using Dtrain.Collectives;
using Dtrain.Collectives.Tensors;
using static TorchSharp.torch;

namespace Dtrain.TensorParallel.Grid;

/// <summary>
/// Whole matrices into and out of a grid through one root rank, which holds the full matrix: for tests, I/O and
/// initialisation, not for training steps (the root holds everything).
/// </summary>
public static class BlockDistribution
{
    /// <summary>
    /// Cuts the root's <paramref name="full"/> matrix into the blocks of <see cref="BlockLayout"/> and sends each
    /// rank its block, which lands on <paramref name="device"/> (the CPU by default). The other ranks pass null:
    /// they learn the shape and type from the root. Every rank of the grid calls it.
    /// </summary>
    public static async Task<BlockMatrix> ScatterAsync(
        this ProcessGrid grid, Tensor? full, int root = 0, Device? device = null, CancellationToken ct = default)
    {
        var world = grid.World;
        long[] description = new long[3];
        if (world.Rank == root)
        {
            if (full is null || full.dim() != 2)
            {
                throw new GridException($"the root rank {root} scatters a 2-D matrix, not {(full is null ? "null" : $"a tensor of shape [{string.Join(", ", full.shape)}]")}");
            }
            description = [full.shape[0], full.shape[1], (long)full.dtype];
        }
        await world.BroadcastAsync<long>(description, root, ct);
        var layout = grid.Layout(description[0], description[1]);
        var block = empty(layout.BlockShape(grid.Row, grid.Col), (ScalarType)description[2], device ?? CPU);
        if (world.Rank == root)
        {
            using var mine = layout.Slice(full!, grid.Row, grid.Col);
            block.copy_(mine);
            await Task.WhenAll(OtherRanks(world, root).Select(SendBlockAsync));
        }
        else
        {
            await world.ReceiveAsync(root, block, ct);
        }
        return new BlockMatrix(block, layout.Rows, layout.Cols);

        async Task SendBlockAsync(int rank)
        {
            var (row, col) = grid.PositionOf(rank);
            using var theirs = layout.Slice(full!, row, col);
            await world.SendAsync(rank, theirs, ct);
        }
    }

    /// <summary>The full matrix on the root rank, on the CPU; null on the other ranks. Every rank of the grid calls it.</summary>
    public static async Task<Tensor?> GatherAsync(this ProcessGrid grid, BlockMatrix matrix, int root = 0, CancellationToken ct = default)
    {
        matrix.CheckOn(grid, "the gathered matrix");
        var world = grid.World;
        if (world.Rank != root)
        {
            await world.SendAsync(root, matrix.Block, ct);
            return null;
        }
        var layout = matrix.LayoutOn(grid);
        var full = empty([layout.Rows, layout.Cols], matrix.Block.dtype, CPU);
        using (var mine = layout.Slice(full, grid.Row, grid.Col))
        {
            mine.copy_(matrix.Block);
        }
        await Task.WhenAll(OtherRanks(world, root).Select(ReceiveBlockAsync));
        return full;

        async Task ReceiveBlockAsync(int rank)
        {
            var (row, col) = grid.PositionOf(rank);
            using var theirs = layout.Slice(full, row, col);
            await world.ReceiveAsync(rank, theirs, ct);
        }
    }

    private static IEnumerable<int> OtherRanks(Communicator world, int root) => Enumerable.Range(0, world.Size).Where(r => r != root);
}
