using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.TensorParallel.Grid;
using Dtrain.TensorParallel.Matmul;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// One algorithm at one size. <see cref="Seconds"/>: each repeat's slowest rank. Bytes are the most any rank sent
/// or held (0 for the single process, which sends nothing). <see cref="RelativeError"/>: max |C - C_ref| / max |C_ref|
/// over all ranks' blocks of the last repeat, C_ref computed locally from the same seeded inputs.
/// </summary>
public sealed record CannonBenchRow(string Algorithm, long Size, double[] Seconds, long BytesSent, long PeakBytes, double RelativeError)
{
    public double MedianSeconds => Median.Of(Seconds);

    /// <summary>2n³ floating-point operations at the median time.</summary>
    public double Gflops => 2.0 * Size * Size * Size / MedianSeconds / 1e9;
}

public sealed record CannonBenchResult(string Device, int ThreadsPerRank, int SingleProcessThreads, IReadOnlyList<CannonBenchRow> Rows);

/// <summary>
/// Issue 5's benchmark: C = A B for square n x n float32 matrices on a q x q grid with Cannon's algorithm (inputs
/// consumed, so no unskew and 5 blocks held), SUMMA and the all-gather baseline; then the same product in one
/// process on rank 0, with all of the machine's cores, as the anchor. Each rank makes its own blocks from a
/// seed per matrix and grid position, fresh for every repeat, so no matrix is ever scattered.
/// </summary>
public sealed record CannonBenchmark(IReadOnlyList<long> Sizes, int Warmup, int Repeats, string Device)
{
    public const string SingleProcess = "single";
    private const int SeedA = 1, SeedB = 2;

    public IEnumerable<string> Problems(int ranks)
    {
        int q = (int)Math.Round(Math.Sqrt(ranks));
        if (q * q != ranks) yield return $"--ranks must be a square number (1, 4, 9, ...) for Cannon's grid, got {ranks}";
        foreach (long size in Sizes.Where(s => s < 1)) yield return $"--sizes must be positive, got {size}";
        if (Warmup < 0) yield return $"--warmup must not be negative, got {Warmup}";
        if (Repeats < 1) yield return $"--repeats must be at least 1, got {Repeats}";
    }

    public async Task<CannonBenchResult> RunAsync(Communicator comm, CancellationToken ct)
    {
        var (device, threads) = BenchTorch.ForRank(Device, comm.Size);
        await using var grid = await ProcessGrid.CreateSquareAsync(comm, ct: ct);
        var rows = new List<CannonBenchRow>();
        foreach (long n in Sizes)
        {
            using var reference = ReferenceBlock(grid, n, device);
            rows.Add(await TimeAsync(grid, n, device, reference, CannonMatmul.Algorithm,
                (a, b) => CannonMatmul.MultiplyAsync(grid, a, b, InputBlocks.Consumed, ct), ct));
            rows.Add(await TimeAsync(grid, n, device, reference, SummaMatmul.Algorithm, (a, b) => SummaMatmul.MultiplyAsync(grid, a, b, ct), ct));
            rows.Add(await TimeAsync(grid, n, device, reference, AllGatherMatmul.Algorithm, (a, b) => AllGatherMatmul.MultiplyAsync(grid, a, b, ct), ct));
            rows.Add(await TimeSingleProcessAsync(grid, n, device, ct));
        }
        return new CannonBenchResult(device.type.ToString().ToLowerInvariant(), threads, Environment.ProcessorCount, rows);
    }

    private async Task<CannonBenchRow> TimeAsync(
        ProcessGrid grid, long n, Device device, Tensor reference, string algorithm,
        Func<BlockMatrix, BlockMatrix, Task<MatmulResult>> multiply, CancellationToken ct)
    {
        var seconds = new double[Repeats];
        long bytesSent = 0, peakBytes = 0;
        double error = 0;
        for (int repeat = -Warmup; repeat < Repeats; repeat++)
        {
            using var a = Block(grid, n, SeedA, device);
            using var b = Block(grid, n, SeedB, device);
            await grid.World.BarrierAsync(ct);
            long started = Stopwatch.GetTimestamp();
            var result = await multiply(new BlockMatrix(a, n, n), new BlockMatrix(b, n, n));
            if (device.type == DeviceType.CUDA) cuda.synchronize();
            double elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            using var product = result.Product.Block;
            if (repeat < 0) continue;
            seconds[repeat] = elapsed;
            (bytesSent, peakBytes) = (result.Stats.BytesSent, result.Stats.PeakBytes);
            if (repeat == Repeats - 1) error = RelativeError(product, reference);
        }
        await grid.World.AllReduceAsync<double>(seconds, ReduceOp.Max, ct);
        var most = new[] { bytesSent, peakBytes };
        await grid.World.AllReduceAsync<long>(most, ReduceOp.Max, ct);
        var worst = new[] { error };
        await grid.World.AllReduceAsync<double>(worst, ReduceOp.Max, ct);
        return new CannonBenchRow(algorithm, n, seconds, most[0], most[1], worst[0]);
    }

    /// <summary>Rank 0 multiplies the whole matrices, assembled from the same seeded blocks, with every core.</summary>
    private async Task<CannonBenchRow> TimeSingleProcessAsync(ProcessGrid grid, long n, Device device, CancellationToken ct)
    {
        var seconds = new double[Repeats];
        if (grid.Rank == 0)
        {
            lock (BenchTorch.Lock)
            {
                set_num_threads(Environment.ProcessorCount);
                using var a = Whole(grid, n, SeedA, device);
                using var b = Whole(grid, n, SeedB, device);
                for (int repeat = -Warmup; repeat < Repeats; repeat++)
                {
                    long started = Stopwatch.GetTimestamp();
                    using var product = a.matmul(b);
                    if (device.type == DeviceType.CUDA) cuda.synchronize();
                    if (repeat >= 0) seconds[repeat] = Stopwatch.GetElapsedTime(started).TotalSeconds;
                }
                set_num_threads(Math.Max(1, Environment.ProcessorCount / grid.World.Size));
            }
        }
        await grid.World.AllReduceAsync<double>(seconds, ReduceOp.Max, ct);
        return new CannonBenchRow(SingleProcess, n, seconds, 0, 0, 0);
    }

    /// <summary>This rank's block of C = A B, from its block row of A and block column of B, made locally.</summary>
    private static Tensor ReferenceBlock(ProcessGrid grid, long n, Device device)
    {
        using var scope = NewDisposeScope();
        var aRow = cat(Enumerable.Range(0, grid.Cols).Select(col => Block(grid.Layout(n, n), grid.Row, col, SeedA, device)).ToArray(), 1);
        var bColumn = cat(Enumerable.Range(0, grid.Rows).Select(row => Block(grid.Layout(n, n), row, grid.Col, SeedB, device)).ToArray(), 0);
        return aRow.matmul(bColumn).MoveToOuterDisposeScope();
    }

    private static Tensor Whole(ProcessGrid grid, long n, int seed, Device device)
    {
        using var scope = NewDisposeScope();
        var layout = grid.Layout(n, n);
        var rows = Enumerable.Range(0, grid.Rows)
            .Select(row => cat(Enumerable.Range(0, grid.Cols).Select(col => Block(layout, row, col, seed, device)).ToArray(), 1));
        return cat(rows.ToArray(), 0).MoveToOuterDisposeScope();
    }

    private static Tensor Block(ProcessGrid grid, long n, int seed, Device device) => Block(grid.Layout(n, n), grid.Row, grid.Col, seed, device);

    /// <summary>Random normal values, a function of the matrix's seed and the grid position only.</summary>
    private static Tensor Block(BlockLayout layout, int row, int col, int seed, Device device)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)(seed * 1_000_003L + row * 1009L + col));
        return randn(layout.BlockShape(row, col), generator: generator).to(device).MoveToOuterDisposeScope();
    }

    private static double RelativeError(Tensor product, Tensor reference)
    {
        using var scope = NewDisposeScope();
        double scale = reference.abs().max().ToDouble();
        return scale == 0 ? 0 : (product - reference).abs().max().ToDouble() / scale;
    }
}
