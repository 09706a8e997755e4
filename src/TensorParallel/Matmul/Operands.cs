using Dtrain.TensorParallel.Grid;

namespace Dtrain.TensorParallel.Matmul;

internal static class Operands
{
    /// <summary>Checks this rank's part of C = A B before anything is sent; returns how C is laid out.</summary>
    public static BlockLayout Check(ProcessGrid grid, BlockMatrix a, BlockMatrix b)
    {
        if (a.Cols != b.Rows)
        {
            throw new GridException($"cannot multiply A ({a.Rows} x {a.Cols}) by B ({b.Rows} x {b.Cols}): the inner dimensions {a.Cols} and {b.Rows} differ");
        }
        a.CheckOn(grid, "A");
        b.CheckOn(grid, "B");
        if (a.Block.dtype != b.Block.dtype || a.Block.device_type != b.Block.device_type || a.Block.device_index != b.Block.device_index)
        {
            throw new GridException($"A's block is {a.Block.dtype} on {a.Block.device}, B's is {b.Block.dtype} on {b.Block.device}");
        }
        return grid.Layout(a.Rows, b.Cols);
    }
}
