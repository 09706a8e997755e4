using Dtrain.Collectives;
using Dtrain.Collectives.Tensors;

namespace Dtrain.TensorParallel.Grid;

/// <summary>
/// The ranks of a communicator arranged as a <see cref="Rows"/> x <see cref="Cols"/> grid of cells, numbered
/// row-major: cell c is (c / Cols, c % Cols). Each cell has an owning rank, by default rank c (the coordinator's
/// shard map may place them otherwise). Each rank also gets the sub-group of its grid row, in which its rank is its
/// column, and of its grid column, in which its rank is its row.
/// </summary>
public sealed class ProcessGrid : IAsyncDisposable
{
    private readonly int[] cellOwners, cellOfRank;

    private ProcessGrid(Communicator world, int rows, int cols, int[] cellOwners, int[] cellOfRank, Communicator rowGroup, Communicator columnGroup)
    {
        (World, Rows, Cols, RowGroup, ColumnGroup) = (world, rows, cols, rowGroup, columnGroup);
        (this.cellOwners, this.cellOfRank) = (cellOwners, cellOfRank);
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

    /// <summary>This rank's cell, row-major.</summary>
    public int Cell => Row * Cols + Col;

    /// <summary>The ranks of this grid row, ranked by column.</summary>
    public Communicator RowGroup { get; }

    /// <summary>The ranks of this grid column, ranked by row.</summary>
    public Communicator ColumnGroup { get; }

    public bool IsSquare => Rows == Cols;

    /// <summary>
    /// What failed inside a backward that runs collectives on this grid (CannonLinear's): the caller of backward()
    /// rethrows it with <see cref="BackwardFailure.ThrowIfFailed"/>; until then the grid's later backward work is skipped.
    /// </summary>
    public BackwardFailure BackwardFailure { get; } = new();

    /// <summary>Arranges the ranks of <paramref name="world"/> as a grid; every rank calls it with the same shape and owners.</summary>
    /// <param name="cellOwners">The rank owning each cell, row-major, each rank once; null: cell c to rank c.</param>
    public static async Task<ProcessGrid> CreateAsync(Communicator world, int rows, int cols, IReadOnlyList<int>? cellOwners = null, CancellationToken ct = default)
    {
        if (rows < 1 || cols < 1 || (long)rows * cols != world.Size)
        {
            throw new GridException($"a {rows} x {cols} process grid needs {(long)rows * cols} ranks, the group has {world.Size}");
        }
        var owners = cellOwners?.ToArray() ?? Enumerable.Range(0, world.Size).ToArray();
        if (owners.Length != world.Size || !owners.Order().SequenceEqual(Enumerable.Range(0, world.Size)))
        {
            throw new GridException($"the owners of a {rows} x {cols} grid's cells must name each of its {world.Size} ranks once, not [{string.Join(", ", owners)}]");
        }
        var cellOfRank = new int[owners.Length];
        for (int c = 0; c < owners.Length; c++) cellOfRank[owners[c]] = c;
        int cell = cellOfRank[world.Rank], row = cell / cols, col = cell % cols;
        var rowGroup = (await world.SplitAsync(row, col, ct))!;
        var columnGroup = (await world.SplitAsync(col, row, ct))!;
        return new ProcessGrid(world, rows, cols, owners, cellOfRank, rowGroup, columnGroup);
    }

    /// <summary>The side q of the q x q grid that <paramref name="ranks"/> ranks form, as Cannon's algorithm needs.</summary>
    public static int SquareSide(int ranks)
    {
        int q = (int)Math.Round(Math.Sqrt(ranks));
        if (q * q != ranks)
        {
            throw new GridException($"a square process grid needs a square number of ranks (1, 4, 9, 16, ...), the group has {ranks}");
        }
        return q;
    }

    /// <summary>A q x q grid of the q² ranks of <paramref name="world"/>.</summary>
    public static async Task<ProcessGrid> CreateSquareAsync(Communicator world, IReadOnlyList<int>? cellOwners = null, CancellationToken ct = default)
    {
        int q = SquareSide(world.Size);
        return await CreateAsync(world, q, q, cellOwners, ct);
    }

    public int RankOf(int row, int col)
    {
        if (row < 0 || row >= Rows || col < 0 || col >= Cols)
        {
            throw new ArgumentOutOfRangeException(nameof(row), $"({row}, {col}) is not a position of a {this} grid");
        }
        return cellOwners[row * Cols + col];
    }

    public (int Row, int Col) PositionOf(int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, Rows * Cols);
        int cell = cellOfRank[rank];
        return (cell / Cols, cell % Cols);
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
