using static System.FormattableString;

namespace Dtrain.Launcher.Bench;

/// <summary>Prints `dtrain bench shampoo`'s table: one row per optimizer configuration, times in milliseconds.</summary>
public static class ShampooReport
{
    public static void Print(TextWriter output, string transport, int ranks, ShampooBenchmark bench, ShampooBenchResult result)
    {
        var adamw = result.Rows.Single(r => r.Frequency is null);
        output.WriteLine(
            Invariant($"# dtrain bench shampoo: {Count(ranks, "rank")} over {transport} on {result.Device} ({Count(result.ThreadsPerRank, "torch thread")} per rank), ") +
            Invariant($"MLP {bench.Width} wide x {Count(bench.Layers, "hidden layer")} ({result.Parameters:N0} parameters), batch {bench.Batch} per rank, ") +
            Invariant($"{bench.Steps} timed steps after {bench.Warmup} warm-up"));
        var shampoo = bench.ShampooSettings(frequency: 1);
        output.WriteLine(
            Invariant($"# adamw: lr {ShampooBenchmark.LearningRate}, weight decay {ShampooBenchmark.AdamWWeightDecay}; shampoo: lr {shampoo.LearningRate}, {shampoo.Grafting} grafting (eps {shampoo.GraftingEpsilon}), ") +
            Invariant($"beta2 {shampoo.Beta2}, max_preconditioner_dim {shampoo.MaxPreconditionerDim}, start_preconditioning_step = precondition_frequency, ") +
            "warm-up past it and timed steps a multiple of it");
        output.WriteLine("# a step's time is the slowest rank's; the ratios are to AdamW's median and mean; update: the optimizer's part of the step alone (median)");
        output.WriteLine($"# {"optimizer",-9} {"frequency",9} {"warmup",7} {"steps",6} {"median(ms)",11} {"mean(ms)",10} {"median/adamw",13} {"mean/adamw",11} {"update(ms)",11} {"all_gather(B/step)",19}");
        foreach (var row in result.Rows)
        {
            output.WriteLine(
                Invariant($"  {row.Optimizer,-9} {row.Frequency?.ToString() ?? "-",9} {row.WarmupSteps,7} {row.StepSeconds.Length,6} ") +
                Invariant($"{row.MedianSeconds * 1e3,11:0.00} {row.MeanSeconds * 1e3,10:0.00} ") +
                Invariant($"{row.MedianSeconds / adamw.MedianSeconds,13:0.00} {row.MeanSeconds / adamw.MeanSeconds,11:0.00} ") +
                Invariant($"{row.MedianUpdateSeconds * 1e3,11:0.00} {row.AllGatherBytesPerStep,19}"));
        }
    }

    private static string Count(int n, string noun) => Invariant($"{n} {noun}{(n == 1 ? "" : "s")}");
}
