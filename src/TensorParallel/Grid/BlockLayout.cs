using static TorchSharp.torch;

namespace Dtrain.TensorParallel.Grid;

/// <summary>
/// How a <see cref="Rows"/> x <see cref="Cols"/> matrix is cut into blocks on a <see cref="GridRows"/> x
/// <see cref="GridCols"/> process grid. Think of the matrix padded with zeros at the bottom and right to the next
/// multiple of the grid's size and cut into equal blocks of <see cref="BlockRows"/> x <see cref="BlockCols"/>
/// (each a ceiling of size / grid size); the block of grid position (i, j) is that padded block without its
/// padding. So every block but the last of each row and column has the full size, the last ones are shorter,
/// and with more grid rows than ceilings fit some blocks are empty: 7 rows on 3 grid rows are 3 + 3 + 1,
/// 4 rows are 2 + 2 + 0.
/// </summary>
public sealed record BlockLayout(long Rows, long Cols, int GridRows, int GridCols)
{
    public long BlockRows { get; } = CeilingDivide(Rows, GridRows);

    public long BlockCols { get; } = CeilingDivide(Cols, GridCols);

    public long RowStart(int gridRow) => Math.Min(gridRow * BlockRows, Rows);

    public long RowCount(int gridRow) => Math.Min((gridRow + 1) * BlockRows, Rows) - RowStart(gridRow);

    public long ColStart(int gridCol) => Math.Min(gridCol * BlockCols, Cols);

    public long ColCount(int gridCol) => Math.Min((gridCol + 1) * BlockCols, Cols) - ColStart(gridCol);

    /// <summary>The grid row whose block holds matrix row <paramref name="row"/>.</summary>
    public int GridRowOf(long row) => (int)(row / BlockRows);

    /// <summary>The grid column whose block holds matrix column <paramref name="col"/>.</summary>
    public int GridColOf(long col) => (int)(col / BlockCols);

    public long[] BlockShape(int gridRow, int gridCol) => [RowCount(gridRow), ColCount(gridCol)];

    /// <summary>The block of grid position (<paramref name="gridRow"/>, <paramref name="gridCol"/>) as a view of <paramref name="full"/>.</summary>
    public Tensor Slice(Tensor full, int gridRow, int gridCol) =>
        full.narrow(0, RowStart(gridRow), RowCount(gridRow)).narrow(1, ColStart(gridCol), ColCount(gridCol));

    public override string ToString() => $"{Rows} x {Cols}";

    private static long CeilingDivide(long size, int parts)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        return Math.Max(1, (size + parts - 1) / parts);
    }
}
