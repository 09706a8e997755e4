using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.Collectives.Transports.Mpi;

namespace Dtrain.Launcher.Bench;

/// <summary>One row of results, in nccl-tests' terms: algbw = size / time, busbw = algbw x the op's bus factor.</summary>
public sealed record BenchResult(long Bytes, double Seconds, double AlgorithmGBps, double BusGBps, double MemcpyGBps);

/// <summary>
/// Times one collective on one rank, the way nccl-tests does: a few warm-up calls, then <c>iterations</c> timed
/// back to back; the time of a size is the slowest rank's mean.
/// </summary>
public sealed class CollectiveBenchmark(string op, int warmup, int iterations)
{
    /// <summary>native_all_reduce is the MPI library's own MPI_Allreduce (MPI transport only).</summary>
    public static readonly string[] Ops = ["all_reduce", "all_gather", "reduce_scatter", "broadcast", "reduce", "native_all_reduce"];

    /// <summary>How many bytes each rank must move per byte of size, for busbw (nccl-tests' definitions).</summary>
    public static double BusFactor(string op, int ranks) => op switch
    {
        "all_reduce" or "native_all_reduce" => 2.0 * (ranks - 1) / ranks,
        "all_gather" or "reduce_scatter" => (double)(ranks - 1) / ranks,
        _ => 1,
    };

    /// <summary>Runs every size on this rank; the same calls must run on every rank of <paramref name="comm"/>.</summary>
    public async Task<IReadOnlyList<BenchResult>> RunAsync(
        Communicator comm, IReadOnlyList<long> sizes, CancellationToken ct)
    {
        var results = new List<BenchResult>();
        foreach (long bytes in sizes)
        {
            // Sizes are totals as nccl-tests counts them: the all-reduced buffer, or all-gather's whole output.
            int count = checked((int)(bytes / sizeof(float)));
            int block = Math.Max(1, count / comm.Size);
            var data = new float[count];
            var part = new float[block];
            var whole = new float[block * comm.Size];

            Func<Task> call = op switch
            {
                "all_reduce" => () => comm.AllReduceAsync<float>(data, ReduceOp.Sum, ct),
                "all_gather" => () => comm.AllGatherAsync<float>(part, whole, ct),
                "reduce_scatter" => () => comm.ReduceScatterAsync<float>(whole, part, ReduceOp.Sum, ct),
                "broadcast" => () => comm.BroadcastAsync<float>(data, 0, ct),
                "reduce" => () => comm.ReduceAsync<float>(data, 0, ReduceOp.Sum, ct),
                "native_all_reduce" when comm is MpiCommunicator mpi => () => mpi.NativeAllReduceAsync<float>(data, ReduceOp.Sum, ct),
                "native_all_reduce" => throw new UsageException("native_all_reduce is MPI's own MPI_Allreduce: it needs --transport mpi"),
                _ => throw new UsageException($"unknown op '{op}' (known: {string.Join(", ", Ops)})"),
            };
            for (int i = 0; i < warmup; i++) await call();
            await comm.BarrierAsync(ct);
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < iterations; i++) await call();
            var slowest = new[] { watch.Elapsed.TotalSeconds / iterations };
            await comm.AllReduceAsync<double>(slowest, ReduceOp.Max, ct);

            double seconds = slowest[0], algbw = bytes / seconds / 1e9;
            results.Add(new BenchResult(bytes, seconds, algbw, algbw * BusFactor(op, comm.Size), MemcpyGBps(data)));
        }
        return results;
    }

    /// <summary>The bound no transport can beat on this machine: one copy of the buffer within a process.</summary>
    private static double MemcpyGBps(float[] source)
    {
        var target = new float[source.Length];
        source.AsSpan().CopyTo(target);
        int repeats = Math.Max(1, (int)(64L << 20) / Math.Max(1, source.Length * sizeof(float)));
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < repeats; i++) source.AsSpan().CopyTo(target);
        return (double)source.Length * sizeof(float) * repeats / watch.Elapsed.TotalSeconds / 1e9;
    }
}
