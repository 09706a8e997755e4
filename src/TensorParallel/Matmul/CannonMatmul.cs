using Dtrain.TensorParallel.Grid;
using static TorchSharp.torch;

namespace Dtrain.TensorParallel.Matmul;

/// <summary>
/// Cannon's algorithm on a q x q grid (../shared/reference/cannon.md). Blocks that do not divide evenly are
/// zero-padded to the ceiling size of <see cref="BlockLayout"/>, so every shifted block has one shape, and the
/// product is cropped at the end. Rank (i, j):
/// <list type="number">
/// <item>skew: row i of A shifts left by i, column j of B up by j; now (i, j) holds A(i, i+j) and B(i+j, j);</item>
/// <item>q steps: start shifting A left by 1 and B up by 1 into the spare buffers, multiply-add the current
/// blocks meanwhile, then wait for the shift (none after the last step);</item>
/// <item>unskew, when A and B were shifted in place and are to be restored (<see cref="InputBlocks"/>).</item>
/// </list>
/// Each rank sends 2(q - 1) blocks in the steps, one block of A unless i = 0 and one of B unless j = 0 in the
/// skew, and in the unskew one of A unless i = 1 and one of B unless j = 1 (mod q).
/// </summary>
public static class CannonMatmul
{
    public const string Algorithm = "cannon";

    public static async Task<MatmulResult> MultiplyAsync(
        ProcessGrid grid, BlockMatrix a, BlockMatrix b, InputBlocks inputs = InputBlocks.ReadOnly, CancellationToken ct = default)
    {
        if (!grid.IsSquare)
        {
            throw new GridException($"Cannon's algorithm needs a square process grid, not {grid}; SUMMA works on any grid");
        }
        var productLayout = Operands.Check(grid, a, b);
        using var run = new MatmulRun(grid, Algorithm);
        int q = grid.Rows, i = grid.Row, j = grid.Col;
        var aLayout = a.LayoutOn(grid);
        var bLayout = b.LayoutOn(grid);
        bool aInPlace = inputs != InputBlocks.ReadOnly && DividesEvenly(aLayout);
        bool bInPlace = inputs != InputBlocks.ReadOnly && DividesEvenly(bLayout);
        var aCaller = run.Input(a.Block);
        var bCaller = run.Input(b.Block);
        var aBlocks = Buffers(run, aCaller, aLayout, aInPlace);
        var bBlocks = Buffers(run, bCaller, bLayout, bInPlace);
        var c = run.Allocate([aLayout.BlockRows, bLayout.BlockCols], aCaller);

        (aBlocks, bBlocks) = await ShiftAsync(grid, aBlocks, i, bBlocks, j, ct);
        for (int step = 0; step < q; step++)
        {
            var (aNow, bNow) = (aBlocks.Current, bBlocks.Current);
            var shifting = step < q - 1 ? ShiftAsync(grid, aBlocks, 1, bBlocks, 1, ct) : Task.FromResult((aBlocks, bBlocks));
            c.addmm_(aNow, bNow);
            (aBlocks, bBlocks) = await shifting;
        }
        if (inputs == InputBlocks.ShiftedAndRestored)
        {
            // In all, A moved left by i + q - 1 and B up by j + q - 1: move them back. The decision to restore
            // depends only on the matrices' shapes, so a whole grid row (column) makes it alike.
            (aBlocks, bBlocks) = await ShiftAsync(grid, aBlocks, aInPlace ? -(i + q - 1) : 0, bBlocks, bInPlace ? -(j + q - 1) : 0, ct);
            RestoreInto(aCaller, aBlocks);
            RestoreInto(bCaller, bBlocks);
        }
        return run.Finish(Cropped(run, c, productLayout.BlockShape(i, j)), productLayout);
    }

    /// <summary>The caller's block and a spare when the block is shifted in place; otherwise a zero-padded copy and a spare.</summary>
    private static ShiftPair Buffers(MatmulRun run, Tensor callers, BlockLayout layout, bool inPlace)
    {
        long[] shape = [layout.BlockRows, layout.BlockCols];
        var current = callers;
        if (!inPlace || !callers.is_contiguous())
        {
            current = run.Allocate(shape, callers);
            using var unpadded = current.narrow(0, 0, callers.shape[0]).narrow(1, 0, callers.shape[1]);
            unpadded.copy_(callers);
        }
        return new ShiftPair(current, run.Allocate(shape, callers));
    }

    private static async Task<(ShiftPair A, ShiftPair B)> ShiftAsync(
        ProcessGrid grid, ShiftPair a, int aLeft, ShiftPair b, int bUp, CancellationToken ct)
    {
        var shifted = await Task.WhenAll(a.ShiftAsync(grid.RowGroup, aLeft, ct), b.ShiftAsync(grid.ColumnGroup, bUp, ct));
        return (shifted[0], shifted[1]);
    }

    /// <summary>After the unskew the caller's own block is current, possibly in the spare buffer.</summary>
    private static void RestoreInto(Tensor callers, ShiftPair blocks)
    {
        if (ReferenceEquals(blocks.Spare, callers))
        {
            callers.copy_(blocks.Current);
        }
    }

    private static Tensor Cropped(MatmulRun run, Tensor padded, long[] shape)
    {
        if (padded.shape[0] == shape[0] && padded.shape[1] == shape[1])
        {
            return padded;
        }
        var cropped = run.Allocate(shape, padded);
        using (var product = padded.narrow(0, 0, shape[0]).narrow(1, 0, shape[1]))
        {
            cropped.copy_(product);
        }
        run.Free(padded);
        return cropped;
    }

    private static bool DividesEvenly(BlockLayout layout) =>
        layout.Rows == layout.BlockRows * layout.GridRows && layout.Cols == layout.BlockCols * layout.GridCols;
}
