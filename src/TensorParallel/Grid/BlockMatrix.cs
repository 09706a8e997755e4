using static TorchSharp.torch;

namespace Dtrain.TensorParallel.Grid;

/// <summary>
/// A <see cref="Rows"/> x <see cref="Cols"/> matrix distributed over a process grid by <see cref="BlockLayout"/>:
/// this rank holds <see cref="Block"/>, the block of its grid position. Every rank of the grid passes the same
/// <see cref="Rows"/> and <see cref="Cols"/>.
/// </summary>
public sealed record BlockMatrix(Tensor Block, long Rows, long Cols)
{
    public BlockLayout LayoutOn(ProcessGrid grid) => grid.Layout(Rows, Cols);

    /// <summary>Throws a <see cref="GridException"/> unless <see cref="Block"/> is the 2-D block this rank's grid position holds.</summary>
    public void CheckOn(ProcessGrid grid, string name)
    {
        var expected = LayoutOn(grid).BlockShape(grid.Row, grid.Col);
        if (Block.dim() != 2 || Block.shape[0] != expected[0] || Block.shape[1] != expected[1])
        {
            throw new GridException(
                $"{name}'s block on rank {grid.Rank} (grid row {grid.Row}, column {grid.Col}) has shape [{string.Join(", ", Block.shape)}], " +
                $"but a {Rows} x {Cols} matrix on a {grid} grid puts a {expected[0]} x {expected[1]} block there");
        }
    }
}
