using Dtrain.Telemetry;
using Dtrain.TensorParallel.Grid;
using Dtrain.TensorParallel.Matmul;
using static Dtrain.Tests.TensorParallel.Matrices;

namespace Dtrain.Tests.TensorParallel;

/// <summary>Bytes sent and peak bytes held per rank, against counts derived from the block sizes.</summary>
public class CountersTests
{
    private const int Float = sizeof(float);

    /// <summary>
    /// Rank (i, j) of a q x q grid sends q - 1 blocks of A and of B in the steps; in the skew a block of A unless
    /// i = 0 and of B unless j = 0; in the unskew, if there is one, a block of A unless i = 1 and of B unless j = 1
    /// (A has moved left by i + q - 1 in all, which is a whole turn when i = 1).
    /// </summary>
    private static long CannonBytes(int q, int i, int j, long aBlock, long bBlock, bool unskewed)
    {
        int unskewA = unskewed && i != 1 % q ? 1 : 0, unskewB = unskewed && j != 1 % q ? 1 : 0;
        long aBlocks = q == 1 ? 0 : q - 1 + (i != 0 ? 1 : 0) + unskewA;
        long bBlocks = q == 1 ? 0 : q - 1 + (j != 0 ? 1 : 0) + unskewB;
        return Float * (aBlocks * aBlock + bBlocks * bBlock);
    }

    [Theory]
    [InlineData(3, InputBlocks.ShiftedAndRestored, 6, 9, 12)]
    [InlineData(3, InputBlocks.Consumed, 6, 9, 12)]
    [InlineData(3, InputBlocks.ReadOnly, 6, 9, 12)]
    [InlineData(2, InputBlocks.ShiftedAndRestored, 6, 4, 8)]
    [InlineData(3, InputBlocks.ShiftedAndRestored, 7, 5, 8)]   // padded to 9 x 6 and 6 x 9; no unskew: copies were shifted
    [InlineData(1, InputBlocks.ShiftedAndRestored, 5, 4, 3)]
    public async Task Cannon_sends_exactly_its_shifts(int q, InputBlocks inputs, long m, long k, long n)
    {
        var stats = await Run(q, q, m, k, n, (grid, a, b) => CannonMatmul.MultiplyAsync(grid, a, b, inputs));
        long bm = (m + q - 1) / q, bk = (k + q - 1) / q, bn = (n + q - 1) / q;
        bool divides = m % q == 0 && k % q == 0 && n % q == 0;
        for (int rank = 0; rank < q * q; rank++)
        {
            bool unskewed = inputs == InputBlocks.ShiftedAndRestored && divides;
            Assert.Equal(CannonBytes(q, rank / q, rank % q, bm * bk, bk * bn, unskewed), stats[rank].BytesSent);
        }
    }

    [Theory]
    [InlineData(InputBlocks.ShiftedAndRestored, 5)]
    [InlineData(InputBlocks.Consumed, 5)]
    [InlineData(InputBlocks.ReadOnly, 7)]   // the inputs, the shifted copies, the spares and C
    public async Task Cannon_holds_five_blocks_when_it_shifts_the_inputs_in_place(InputBlocks inputs, int blocks)
    {
        const int q = 3, n = 12;
        var stats = await Run(q, q, n, n, n, (grid, a, b) => CannonMatmul.MultiplyAsync(grid, a, b, inputs));
        Assert.All(stats, s => Assert.Equal(blocks * n * n / (q * q) * Float, s.PeakBytes));
        if (inputs != InputBlocks.ReadOnly)
        {
            Assert.All(stats, s => Assert.True(s.PeakBytes <= 5 * n * n / (q * q) * Float));
        }
    }

    /// <summary>
    /// Every broadcast (SUMMA) and ring all-gather (the baseline) delivers each block to every other rank of its grid row
    /// or column exactly once: (pc - 1) m k + (pr - 1) k n elements in all, however the tree or ring runs.
    /// </summary>
    [Theory]
    [InlineData(SummaMatmul.Algorithm, 2, 3, 7, 11, 5)]
    [InlineData(SummaMatmul.Algorithm, 3, 3, 12, 12, 12)]
    [InlineData(AllGatherMatmul.Algorithm, 2, 3, 7, 11, 5)]
    [InlineData(AllGatherMatmul.Algorithm, 3, 3, 12, 12, 12)]
    public async Task Summa_and_the_baseline_send_every_block_once_to_each_other_rank_of_its_row_or_column(
        string algorithm, int gridRows, int gridCols, long m, long k, long n)
    {
        var stats = await Run(gridRows, gridCols, m, k, n, algorithm == SummaMatmul.Algorithm
            ? (grid, a, b) => SummaMatmul.MultiplyAsync(grid, a, b)
            : (grid, a, b) => AllGatherMatmul.MultiplyAsync(grid, a, b));
        Assert.Equal(Float * ((gridCols - 1) * m * k + (gridRows - 1) * k * n), stats.Sum(s => s.BytesSent));
    }

    [Fact]
    public async Task Summa_holds_five_blocks_and_the_baseline_a_whole_row_and_column_more()
    {
        const int q = 3, n = 12, block = n * n / (q * q) * Float;
        var summa = await Run(q, q, n, n, n, (grid, a, b) => SummaMatmul.MultiplyAsync(grid, a, b));
        var baseline = await Run(q, q, n, n, n, (grid, a, b) => AllGatherMatmul.MultiplyAsync(grid, a, b));
        Assert.All(summa, s => Assert.Equal(5 * block, s.PeakBytes));
        Assert.All(baseline, s => Assert.Equal((3 + 2 * q) * block, s.PeakBytes));
    }

    [Fact]
    public async Task Each_run_is_published_as_metrics()
    {
        double before = DtrainMetrics.MatmulSentBytes.WithLabels(CannonMatmul.Algorithm).Value;
        var stats = await Run(2, 2, 6, 4, 8, (grid, a, b) => CannonMatmul.MultiplyAsync(grid, a, b));
        Assert.Equal(before + stats.Sum(s => s.BytesSent), DtrainMetrics.MatmulSentBytes.WithLabels(CannonMatmul.Algorithm).Value);
        Assert.All(stats, s => Assert.Equal(s.PeakBytes, DtrainMetrics.MatmulPeakBytes.WithLabels(CannonMatmul.Algorithm).Value));
        Assert.All(stats, s => Assert.Equal(CannonMatmul.Algorithm, s.Algorithm));
    }

    private static async Task<MatmulStats[]> Run(
        int gridRows, int gridCols, long m, long k, long n, Func<ProcessGrid, BlockMatrix, BlockMatrix, Task<MatmulResult>> multiply)
    {
        var (a, b) = (Random(m, k, seed: 21), Random(k, n, seed: 22));
        await using var grids = await Grids.InProcessAsync(gridRows, gridCols);
        return await grids.RunAsync(async grid =>
        {
            var aBlocks = await grid.ScatterAsync(grid.Rank == 0 ? a : null);
            var bBlocks = await grid.ScatterAsync(grid.Rank == 0 ? b : null);
            return (await multiply(grid, aBlocks, bBlocks)).Stats;
        });
    }
}
