namespace Dtrain.Launcher.Bench;

/// <summary>Benchmarks quote medians: this machine is noisy.</summary>
public static class Median
{
    public static double Of(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        int half = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
    }
}
