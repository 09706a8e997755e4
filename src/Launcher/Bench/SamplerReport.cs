using static System.FormattableString;

namespace Dtrain.Launcher.Bench;

/// <summary>Prints `dtrain bench sampler`'s table and the verdict against issue 6's target of 5 M sampled edges/s locally.</summary>
public static class SamplerReport
{
    public const double TargetEdgesPerSecond = 5e6;

    public static void Print(TextWriter output, SamplerBenchmark bench, SamplerBenchResult result)
    {
        output.WriteLine(
            Invariant($"# dtrain bench sampler: R-MAT scale {bench.Scale} ({result.NodeCount} nodes, {result.EdgeCount} edges after dedupe, generated in {result.GenerateSeconds:0.0} s), ") +
            Invariant($"fanouts {string.Join(",", bench.Fanouts)} by hop from the seeds, batch {bench.BatchSize}, feature cache {bench.CacheRows} rows, {Environment.ProcessorCount} cores"));
        output.WriteLine($"# partitioning ({bench.Method.ToString().ToLowerInvariant()}): " + string.Join("; ",
            result.Partitionings.Select(p => Invariant($"{p.Parts} part(s) {p.Seconds:0.0} s, edge cut {p.EdgeCut:0.0%}"))));
        output.WriteLine(
            Invariant($"# {bench.Batches} timed batches per row after {bench.Warmup} warm-up; time and edges/s: medians; with ranks > 1 all ranks sample at once (time: the slowest, edges: the sum); ") +
            $"cpu: the process's CPU time per batch (services included), a mean; inputs, feature bytes and remote requests: means per rank per batch; epoch: {(bench.Epoch ? "measured" : "batches/epoch x median batch time")}");
        output.WriteLine(
            $"# {"parts",5} {"ranks",5} {"batch(ms)",10} {"Medges/s",9} {"vs_1part",8} {"cpu(ms)",8} {"edges/batch",11} {"inputs/batch",12} " +
            $"{"local(KiB)",10} {"remote(KiB)",11} {"cache(KiB)",10} {"remote_req",10} {"batches/epoch",13} {"epoch(s)",9}");
        var anchor = result.Rows.Single(row => row.Partitions == 1);
        foreach (var row in result.Rows)
        {
            output.WriteLine(
                Invariant($"  {row.Partitions,5} {row.Ranks,5} {row.MedianSeconds * 1e3,10:0.0} {row.MedianEdgesPerSecond / 1e6,9:0.00} ") +
                Invariant($"{row.MedianEdgesPerSecond / anchor.MedianEdgesPerSecond,8:0.00} {row.CpuSeconds * 1e3,8:0.0} {row.MeanEdges,11:0} {row.InputNodes,12:0} ") +
                Invariant($"{row.LocalBytes / 1024,10:0} {row.RemoteBytes / 1024,11:0} {row.CachedBytes / 1024,10:0} {row.RemoteRequests,10:0.0} ") +
                Invariant($"{row.BatchesPerEpoch,13} {row.EpochSeconds,9:0.00}"));
        }
        double rate = anchor.MedianEdgesPerSecond;
        output.WriteLine(Invariant($"# target >= {TargetEdgesPerSecond / 1e6:0} M sampled edges/s locally (1 partition): {(rate >= TargetEdgesPerSecond ? "met" : "not met")} at {rate / 1e6:0.00} M/s"));
    }
}
