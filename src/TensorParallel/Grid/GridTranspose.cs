using Dtrain.Collectives.Tensors;
using static TorchSharp.torch;

namespace Dtrain.TensorParallel.Grid;

public static class GridTranspose
{
    /// <summary>
    /// The transpose of <paramref name="matrix"/>, distributed the same way on a square grid. Block (i, j) of the
    /// transpose is block (j, i) of the matrix, transposed: ranks (i, j) and (j, i) swap their blocks, one message
    /// each way; ranks on the diagonal only transpose their own. The result is a new contiguous tensor.
    /// </summary>
    public static async Task<BlockMatrix> TransposeAsync(this ProcessGrid grid, BlockMatrix matrix, CancellationToken ct = default)
    {
        if (!grid.IsSquare)
        {
            throw new GridException($"transposing a block matrix needs a square process grid, not {grid}");
        }
        matrix.CheckOn(grid, "the transposed matrix");
        if (grid.Row == grid.Col)
        {
            return new BlockMatrix(Transposed(matrix.Block), matrix.Cols, matrix.Rows);
        }
        // The partner holds block (Col, Row) of the matrix: block (Row, Col) of the transpose, once transposed.
        int partner = grid.RankOf(grid.Col, grid.Row);
        using var received = empty(matrix.LayoutOn(grid).BlockShape(grid.Col, grid.Row), matrix.Block.dtype, matrix.Block.device);
        await Task.WhenAll(grid.World.SendAsync(partner, matrix.Block, ct), grid.World.ReceiveAsync(partner, received, ct));
        return new BlockMatrix(Transposed(received), matrix.Cols, matrix.Rows);
    }

    private static Tensor Transposed(Tensor block)
    {
        using var view = block.t();
        var transposed = empty(view.shape, block.dtype, block.device);
        transposed.copy_(view);
        return transposed;
    }
}
