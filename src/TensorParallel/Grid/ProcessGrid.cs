using Dtrain.Collectives;

namespace Dtrain.TensorParallel.Grid;

/// <summary>
/// The ranks of a communicator arranged as a <see cref="Rows"/> x <see cref="Cols"/> grid, row-major: rank
/// r sits at (r / Cols, r % Cols). Each rank also gets the sub-group of its grid row, in which its rank is its
/// column, and of its grid column, in which its rank is its row.
/// </summary>
public sealed class ProcessGrid : IAsyncDisposable
{
    private ProcessGrid(Communicator world, int rows, int cols, Communicator rowGroup, Communicator columnGroup)
    {
        (World, Rows, Cols, RowGroup, ColumnGroup) = (world, rows, cols, rowGroup, columnGroup);
        (Row, Col) = PositionOf(world.Rank);
    }

    public Communicator World { get; }

    public int Rows { get; }

    public int Cols { get; }

    public int Rank => World.Rank;

    /// <summary>This rank's grid row.</summary>
    public int Row { get; }

    /// <summary>This rank's grid column.</summary>
    public int Col { get; }

    /// <summary>The ranks of this grid row, ranked by column.</summary>
    public Communicator RowGroup { get; }

    /// <summary>The ranks of this grid column, ranked by row.</summary>
    public Communicator ColumnGroup { get; }

    public bool IsSquare => Rows == Cols;

    /// <summary>Arranges the ranks of <paramref name="world"/> as a grid; every rank calls it with the same shape.</summary>
    public static async Task<ProcessGrid> CreateAsync(Communicator world, int rows, int cols, CancellationToken ct = default)
    {
        if (rows < 1 || cols < 1 || (long)rows * cols != world.Size)
        {
            throw new GridException($"a {rows} x {cols} process grid needs {(long)rows * cols} ranks, the group has {world.Size}");
        }
        int row = world.Rank / cols, col = world.Rank % cols;
        var rowGroup = (await world.SplitAsync(row, col, ct))!;
        var columnGroup = (await world.SplitAsync(col, row, ct))!;
        return new ProcessGrid(world, rows, cols, rowGroup, columnGroup);
    }

    /// <summary>A q x q grid of the q² ranks of <paramref name="world"/>, as Cannon's algorithm needs.</summary>
    public static async Task<ProcessGrid> CreateSquareAsync(Communicator world, CancellationToken ct = default)
    {
        int q = (int)Math.Round(Math.Sqrt(world.Size));
        if (q * q != world.Size)
        {
            throw new GridException($"a square process grid needs a square number of ranks (1, 4, 9, 16, ...), the group has {world.Size}");
        }
        return await CreateAsync(world, q, q, ct);
    }

    public int RankOf(int row, int col)
    {
        if (row < 0 || row >= Rows || col < 0 || col >= Cols)
        {
            throw new ArgumentOutOfRangeException(nameof(row), $"({row}, {col}) is not a position of a {this} grid");
        }
        return row * Cols + col;
    }

    public (int Row, int Col) PositionOf(int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, Rows * Cols);
        return (rank / Cols, rank % Cols);
    }

    /// <summary>How a <paramref name="rows"/> x <paramref name="cols"/> matrix is cut into blocks on this grid.</summary>
    public BlockLayout Layout(long rows, long cols) => new(rows, cols, Rows, Cols);

    /// <summary>Payload bytes this rank has sent on the grid's three groups.</summary>
    internal long BytesSent => World.BytesSent + RowGroup.BytesSent + ColumnGroup.BytesSent;

    public override string ToString() => $"{Rows} x {Cols}";

    /// <summary>Disposes the row and column groups; the world communicator stays the caller's.</summary>
    public async ValueTask DisposeAsync()
    {
        await RowGroup.DisposeAsync();
        await ColumnGroup.DisposeAsync();
    }
}
