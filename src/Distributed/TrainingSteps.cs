using System.Diagnostics;
using Dtrain.Telemetry;
using TorchSharp;

namespace Dtrain.Distributed;

/// <summary>What every trainer does around its steps: seeded model creation, and each step's metrics and progress.</summary>
public static class TrainingSteps
{
    private static readonly Lock SeedLock = new();

    /// <summary>
    /// The same seed on every rank gives the same initial parameters, as DDP's broadcast from rank 0 would. The
    /// seed is process-wide, so ranks that share a process (tests) take turns.
    /// </summary>
    public static T CreateSeeded<T>(long seed, Func<T> create)
    {
        lock (SeedLock)
        {
            torch.manual_seed(seed);
            return create();
        }
    }

    /// <summary>Every parameter, flattened in parameter order, on the CPU.</summary>
    public static float[] Flatten(torch.nn.Module model)
    {
        using var scope = torch.NewDisposeScope();
        var all = torch.cat(model.parameters().Select(p => p.detach().flatten().cpu()).ToArray());
        return all.data<float>().ToArray();
    }

    /// <summary>Publishes a finished step: duration since <paramref name="started"/>, samples and loss, and the progress report.</summary>
    public static void Finished(IProgress<StepReport>? progress, string rank, int step, long started, int samples, double loss)
    {
        DtrainMetrics.StepDuration.WithLabels(rank).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        DtrainMetrics.TrainSamples.WithLabels(rank).Inc(samples);
        DtrainMetrics.TrainLoss.WithLabels(rank).Set(loss);
        progress?.Report(new StepReport(step + 1, loss, (long)(step + 1) * samples));
    }
}
