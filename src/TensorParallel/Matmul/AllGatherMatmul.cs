using Dtrain.Collectives.Tensors;
using Dtrain.TensorParallel.Grid;

namespace Dtrain.TensorParallel.Matmul;

/// <summary>
/// The baseline, what MLlib-like systems effectively do: each rank all-gathers its whole block row of A (along
/// its grid row) and block column of B (along its grid column), then multiplies locally. It moves as many bytes
/// as SUMMA but holds a full row of A and column of B at once. Works on any grid.
/// </summary>
public static class AllGatherMatmul
{
    public const string Algorithm = "allgather";

    public static async Task<MatmulResult> MultiplyAsync(ProcessGrid grid, BlockMatrix a, BlockMatrix b, CancellationToken ct = default)
    {
        var productLayout = Operands.Check(grid, a, b);
        using var run = new MatmulRun(grid, Algorithm);
        var aBlock = run.Input(a.Block);
        var bBlock = run.Input(b.Block);
        var aLayout = a.LayoutOn(grid);
        var bLayout = b.LayoutOn(grid);
        long rows = productLayout.RowCount(grid.Row), cols = productLayout.ColCount(grid.Col);
        // A's blocks of this grid row arrive one after the other, each rows x its width; B's blocks of this grid
        // column stack into B's columns of this rank, row-major.
        var aRow = run.Allocate([rows * a.Cols], aBlock);
        var bColumn = run.Allocate([b.Rows, cols], bBlock);
        await Task.WhenAll(
            grid.RowGroup.AllGatherAsync(aBlock, aRow, Counts(grid.Cols, col => rows * aLayout.ColCount(col)), ct),
            grid.ColumnGroup.AllGatherAsync(bBlock, bColumn, Counts(grid.Rows, row => bLayout.RowCount(row) * cols), ct));
        var c = run.Allocate([rows, cols], aBlock);
        long offset = 0;
        for (int col = 0; col < grid.Cols; col++)
        {
            long width = aLayout.ColCount(col);
            using var aPart = aRow.narrow(0, offset, rows * width).view(rows, width);
            using var bPart = bColumn.narrow(0, aLayout.ColStart(col), width);
            c.addmm_(aPart, bPart);
            offset += rows * width;
        }
        return run.Finish(c, productLayout);
    }

    private static int[] Counts(int ranks, Func<int, long> elements) =>
        Enumerable.Range(0, ranks).Select(rank => checked((int)elements(rank))).ToArray();
}
