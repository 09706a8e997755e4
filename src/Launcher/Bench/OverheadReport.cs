using static System.FormattableString;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// Prints `dtrain bench overhead`'s table: two comment lines saying what ran, a column header and one row.
/// bench/overhead.py prints the same columns for PyTorch eager, and bench/overhead.sh reads both rows.
/// </summary>
public static class OverheadReport
{
    public static void Print(TextWriter output, string transport, int ranks, OverheadBenchmark bench, OverheadBenchResult result)
    {
        string shape = bench.Model == "mlp"
            ? Invariant($"{bench.Shape.Layers} hidden layers of {bench.Shape.Width}")
            : TransformerShapeOptions.Describe(bench.Shape);
        output.WriteLine(
            Invariant($"# dtrain bench overhead: {bench.Model} ({shape}) on {result.Device}, {ranks} rank(s) over {transport} ") +
            Invariant($"({result.ThreadsPerRank} torch threads per rank), batch {bench.Batch} per rank, adam lr {OverheadBenchmark.LearningRate}, ") +
            Invariant($"{bench.BucketMegabytes} MiB gradient buckets, all-reduced ") + (bench.Overlap ? "during backward, " : "after backward, ") +
            Invariant($"{bench.Steps} timed steps after {bench.Warmup} warm-up, {OverheadBenchmark.DistinctBatches} batches made before timing and cycled"));
        output.WriteLine("# a step: zero grads, forward, cross-entropy, backward, loss.item(), gradient averaging, Adam; its time is the slowest rank's");
        output.WriteLine("# sync: the time a step waited for gradient averaging after backward (with overlap, what backward did not hide)");
        output.WriteLine($"# {"framework",-9} {"model",-14} {"device",6} {"ranks",5} {"parameters",11} {"median(ms)",10} {"mean(ms)",9} {"samples/s",10} {"sync(ms)",9} {"sync_share",10} {"first_loss",10} {"last_loss",9}");
        output.WriteLine(
            Invariant($"  {"dtrain",-9} {bench.Model,-14} {result.Device,6} {ranks,5} {result.Parameters,11} {result.MedianSeconds * 1e3,10:0.000} {result.MeanSeconds * 1e3,9:0.000} ") +
            Invariant($"{ranks * bench.Batch / result.MedianSeconds,10:0} {Median.Of(result.SyncSeconds) * 1e3,9:0.000} {result.SyncShare,10:0.000} {result.FirstLoss,10:0.0000} {result.LastLoss,9:0.0000}"));
    }
}
