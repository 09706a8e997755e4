using Dtrain.Collectives.Tensors;
using Dtrain.TensorParallel.Grid;

namespace Dtrain.TensorParallel.Matmul;

/// <summary>
/// SUMMA on any pr x pc grid: the inner dimension is cut into panels, and for each panel the grid column that
/// holds it broadcasts A's panel along every grid row, the grid row that holds it broadcasts B's panel along
/// every grid column, and each rank multiply-adds the two into its block of C. The panels are cut wherever A's
/// column blocks or B's row blocks end, so each lies in one block of each and nothing is padded: on a q x q grid
/// they are the q blocks themselves.
/// </summary>
public static class SummaMatmul
{
    public const string Algorithm = "summa";

    public static async Task<MatmulResult> MultiplyAsync(ProcessGrid grid, BlockMatrix a, BlockMatrix b, CancellationToken ct = default)
    {
        var productLayout = Operands.Check(grid, a, b);
        using var run = new MatmulRun(grid, Algorithm);
        var aBlock = run.Input(a.Block);
        var bBlock = run.Input(b.Block);
        var aLayout = a.LayoutOn(grid);
        var bLayout = b.LayoutOn(grid);
        long rows = productLayout.RowCount(grid.Row), cols = productLayout.ColCount(grid.Col);
        var panels = Panels(aLayout, bLayout);
        long widest = panels.Select(p => p.Width).DefaultIfEmpty(0).Max();
        var aPanels = run.Allocate([rows * widest], aBlock);
        var bPanels = run.Allocate([widest * cols], bBlock);
        var c = run.Allocate([rows, cols], aBlock);
        foreach (var (start, width) in panels)
        {
            int aOwner = aLayout.GridColOf(start), bOwner = bLayout.GridRowOf(start);
            using var aPanel = aPanels.narrow(0, 0, rows * width).view(rows, width);
            using var bPanel = bPanels.narrow(0, 0, width * cols).view(width, cols);
            if (grid.Col == aOwner)
            {
                using var mine = aBlock.narrow(1, start - aLayout.ColStart(aOwner), width);
                aPanel.copy_(mine);
            }
            if (grid.Row == bOwner)
            {
                using var mine = bBlock.narrow(0, start - bLayout.RowStart(bOwner), width);
                bPanel.copy_(mine);
            }
            await Task.WhenAll(grid.RowGroup.BroadcastAsync(aPanel, aOwner, ct), grid.ColumnGroup.BroadcastAsync(bPanel, bOwner, ct));
            c.addmm_(aPanel, bPanel);
        }
        return run.Finish(c, productLayout);
    }

    private static List<(long Start, long Width)> Panels(BlockLayout a, BlockLayout b)
    {
        var cuts = Enumerable.Range(0, a.GridCols).Select(a.ColStart)
            .Concat(Enumerable.Range(0, b.GridRows).Select(b.RowStart))
            .Append(a.Cols)
            .Distinct().Order().ToList();
        return cuts.Zip(cuts.Skip(1), (start, end) => (start, end - start)).ToList();
    }
}
