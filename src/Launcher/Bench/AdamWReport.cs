using static System.FormattableString;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// Prints `dtrain bench adamw`'s table: the one-process rows against per-parameter HeldAdam, the two-rank rows
/// against the replicated step; step times are medians in milliseconds, all measured in the same run.
/// </summary>
public static class AdamWReport
{
    public static void Print(TextWriter output, AdamWBenchmark bench, AdamWBenchResult result)
    {
        output.WriteLine(
            $"# dtrain bench adamw: transformer-lm ({TransformerShapeOptions.Describe(bench.Shape)}; " +
            Invariant($"{result.Parameters:N0} parameters in {result.Tensors} tensors) on {result.Device} ({result.ThreadsPerRank} torch threads per rank, one-process rows too), AdamW lr {AdamWBenchmark.LearningRate}, weight decay {AdamWBenchmark.WeightDecay}, ") +
            Invariant($"{bench.Steps} timed steps after {bench.Warmup} warm-up"));
        output.WriteLine("# the optimizer step alone (gradients computed once); on 2 in-process ranks it includes the gradient averaging and is the slowest rank's");
        output.WriteLine($"# {"optimizer",-36} {"ranks",5} {"median(ms)",10} {"ratio",6} {"vs",-10} {"adam_state_bytes/rank",22}");
        foreach (var row in result.Rows)
        {
            var baseline = result.Rows.First(r => r.Ranks == row.Ranks);
            output.WriteLine(
                Invariant($"  {row.Optimizer,-36} {row.Ranks,5} {row.MedianSeconds * 1e3,10:0.000} {row.MedianSeconds / baseline.MedianSeconds,6:0.00} ") +
                Invariant($"{(row.Ranks == 1 ? "HeldAdam" : "replicated"),-10} {row.StateBytesPerRank?.ToString("N0") ?? "-",22}"));
        }
    }
}
