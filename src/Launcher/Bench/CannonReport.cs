using static System.FormattableString;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// Prints `dtrain bench cannon`'s table. Against issue 5's targets: bytes sent per rank as a multiple of
/// 2n²/√P elements, peak bytes held per rank in blocks of n²/P elements (float32 throughout).
/// </summary>
public static class CannonReport
{
    public static void Print(TextWriter output, string transport, int ranks, CannonBenchmark bench, CannonBenchResult result)
    {
        double q = Math.Sqrt(ranks);
        output.WriteLine(
            Invariant($"# dtrain bench cannon: {ranks} ranks ({q} x {q} grid) over {transport} on {result.Device}, {result.ThreadsPerRank} torch threads per rank; ") +
            Invariant($"single = one process on rank 0 with {result.SingleProcessThreads} threads; float32, {bench.Repeats} timed repeats after {bench.Warmup} warm-up"));
        output.WriteLine("# time: median of the repeats, each the slowest rank's; bytes and peak: the most of any rank; target bytes 2n^2/sqrt(P) elements, a block n^2/P");
        output.WriteLine($"# {"algorithm",-9} {"n",5} {"median(ms)",11} {"GFLOP/s",8} {"vs_allgather",12} {"vs_single",9} {"sent/rank(B)",13} {"sent/target",11} {"peak/rank(B)",13} {"peak(blocks)",12} {"rel_error",9}");
        foreach (var row in result.Rows)
        {
            var baseline = result.Rows.Single(r => r.Size == row.Size && r.Algorithm == Dtrain.TensorParallel.Matmul.AllGatherMatmul.Algorithm);
            var single = result.Rows.Single(r => r.Size == row.Size && r.Algorithm == CannonBenchmark.SingleProcess);
            double n2 = (double)row.Size * row.Size * sizeof(float);
            bool distributed = row.Algorithm != CannonBenchmark.SingleProcess;
            output.WriteLine(
                Invariant($"  {row.Algorithm,-9} {row.Size,5} {row.MedianSeconds * 1e3,11:0.0} {row.Gflops,8:0.0} ") +
                Invariant($"{baseline.MedianSeconds / row.MedianSeconds,12:0.00} {single.MedianSeconds / row.MedianSeconds,9:0.00} ") +
                (distributed
                    ? Invariant($"{row.BytesSent,13} {row.BytesSent / (2 * n2 / q),11:0.000} {row.PeakBytes,13} {row.PeakBytes / (n2 / ranks),12:0.00} {row.RelativeError,9:0.0e0}")
                    : Invariant($"{"-",13} {"-",11} {"-",13} {"-",12} {"-",9}")));
        }
    }
}
