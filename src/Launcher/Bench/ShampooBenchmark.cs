using Dtrain.Contracts.Jobs;
using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.Models;
using Dtrain.Models.Data;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Shampoo;
using Dtrain.Training;
using Dtrain.Collectives.DataParallel;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// One optimizer configuration's timed steps: each the slowest rank's time of that step, and of its optimizer
/// update alone (after the gradients are averaged; Shampoo's all-gather included), in seconds.
/// </summary>
public sealed record ShampooBenchRow(string Optimizer, int? Frequency, int WarmupSteps, double[] StepSeconds, double[] UpdateSeconds, long AllGatherBytesPerStep)
{
    public double MedianSeconds => Median.Of(StepSeconds);

    public double MeanSeconds => StepSeconds.Average();

    public double MedianUpdateSeconds => Median.Of(UpdateSeconds);
}

/// <summary>What one benchmark run measured, and on what.</summary>
public sealed record ShampooBenchResult(string Device, int ThreadsPerRank, long Parameters, IReadOnlyList<ShampooBenchRow> Rows);

/// <summary>
/// Issue 4's benchmark: data-parallel training steps of the MLP with AdamW, the anchor, then with Distributed
/// Shampoo at each precondition frequency, its blocks split across the ranks. A step is zero grads, forward,
/// cross-entropy, backward, the gradient all-reduce (<see cref="GradientBuckets"/>) and the optimizer step. Every
/// rank times each step; a step's time is the slowest rank's.
/// </summary>
/// <param name="Width">Hidden units per layer.</param>
/// <param name="Layers">Hidden layers.</param>
/// <param name="Batch">Samples per rank per step.</param>
/// <param name="Frequencies">Shampoo's precondition_frequency, one row each.</param>
/// <param name="MaxPreconditionerDim">Shampoo's max_preconditioner_dim.</param>
/// <param name="Warmup">Untimed steps first (Shampoo: at least its frequency, see <see cref="WarmupSteps"/>).</param>
/// <param name="Steps">Timed steps (Shampoo: rounded up to a multiple of its frequency, see <see cref="TimedSteps"/>).</param>
/// <param name="Device">cpu, cuda or auto.</param>
public sealed record ShampooBenchmark(
    int Width, int Layers, int Batch, IReadOnlyList<int> Frequencies, long MaxPreconditionerDim, int Warmup, int Steps, string Device)
{
    public const double LearningRate = 1e-3;

    /// <summary>AdamW's weight decay: PyTorch's default, as the reference's AdamW anchor (TorchSharp's default is 0).</summary>
    public const double AdamWWeightDecay = 0.01;
    private const long Seed = 1;
    private const long BucketBytes = 25L << 20; // dtrain run's default, as PyTorch DDP's

    /// <summary>Every problem with the settings, each naming the option and the bad value.</summary>
    public IEnumerable<string> Problems()
    {
        if (Width < 1) yield return $"--width must be at least 1, got {Width}";
        if (Layers < 1) yield return $"--layers must be at least 1, got {Layers}";
        if (Batch < 1) yield return $"--batch must be at least 1, got {Batch}";
        if (MaxPreconditionerDim < 1) yield return $"--max-preconditioner-dim must be at least 1, got {MaxPreconditionerDim}";
        if (Warmup < 0) yield return $"--warmup must not be negative, got {Warmup}";
        if (Steps < 1) yield return $"--steps must be at least 1, got {Steps}";
    }

    /// <summary>
    /// Shampoo only grafts before its start step (= the frequency here), so its warm-up runs past that: the
    /// timed steps all precondition.
    /// </summary>
    public int WarmupSteps(int? frequency) => Math.Max(Warmup, frequency ?? 0);

    /// <summary>Whole precondition cycles, so that the mean includes the root computations' share exactly.</summary>
    public int TimedSteps(int? frequency) => frequency is { } f ? (Steps + f - 1) / f * f : Steps;

    /// <summary>Runs every configuration on this rank; every rank of <paramref name="comm"/> must run it.</summary>
    public async Task<ShampooBenchResult> RunAsync(Communicator comm, CancellationToken ct)
    {
        var (device, threads) = BenchTorch.ForRank(Device, comm.Size);
        var data = new SyntheticClassification(Seed);
        long parameters;
        using (var model = CreateModel(data)) parameters = model.parameters().Sum(p => p.numel());

        var rows = new List<ShampooBenchRow> { await TimeAsync(comm, device, data, null, ct) };
        foreach (int frequency in Frequencies) rows.Add(await TimeAsync(comm, device, data, frequency, ct));
        return new ShampooBenchResult(device.type.ToString().ToLowerInvariant(), threads, parameters, rows);
    }

    /// <summary>Times AdamW (<paramref name="frequency"/> null) or Shampoo at that precondition frequency.</summary>
    private async Task<ShampooBenchRow> TimeAsync(
        Communicator comm, Device device, SyntheticClassification data, int? frequency, CancellationToken ct)
    {
        using var model = CreateModel(data);
        model.to(device);
        using var buckets = new GradientBuckets(model.named_parameters(), BucketBytes, compressToBFloat16: false);
        using var adamw = frequency is null
            ? new HeldAdam(model.parameters(), LearningRate, weight_decay: AdamWWeightDecay, decoupled_weight_decay: true)
            : null;
        // One rank is single-process Shampoo: no group, nothing all-gathered.
        using var shampoo = frequency is { } f
            ? new ShampooOptimizer(model.named_parameters(), ShampooSettings(f), comm.Size > 1 ? comm : null)
            : null;

        int warmup = WarmupSteps(frequency);
        var seconds = new double[TimedSteps(frequency)];
        var updateSeconds = new double[seconds.Length];
        for (int step = 0; step < warmup + seconds.Length; step++)
        {
            if (step == warmup) await comm.BarrierAsync(ct);
            var (inputs, labels) = data.Batch(BatchIndices(comm, step), device);
            using (inputs)
            using (labels)
            {
                long started = Stopwatch.GetTimestamp();
                ComputeGradients(model, inputs, labels);
                await buckets.AverageAsync(comm, ct);
                if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
                long updateStarted = Stopwatch.GetTimestamp();
                if (shampoo is not null) await shampoo.StepAsync(ct);
                else adamw!.step();
                if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
                if (step >= warmup)
                {
                    seconds[step - warmup] = Stopwatch.GetElapsedTime(started).TotalSeconds;
                    updateSeconds[step - warmup] = Stopwatch.GetElapsedTime(updateStarted).TotalSeconds;
                }
            }
        }
        await comm.AllReduceAsync<double>(seconds, ReduceOp.Max, ct);
        await comm.AllReduceAsync<double>(updateSeconds, ReduceOp.Max, ct);
        return new ShampooBenchRow(frequency is null ? "adamw" : "shampoo", frequency, warmup, seconds, updateSeconds, shampoo?.AllGatherBytesPerStep ?? 0);
    }

    /// <summary>The reference's recipe (../shared/reference/shampoo.md, section 8) at this benchmark's max dim.</summary>
    public ShampooOptions ShampooSettings(int frequency) => new()
    {
        LearningRate = LearningRate,
        Beta2 = 0.999,
        Grafting = GraftingType.Adam,
        GraftingEpsilon = 1e-8,
        MaxPreconditionerDim = MaxPreconditionerDim,
        PreconditionFrequency = frequency,
        StartPreconditioningStep = frequency,
    };

    private Mlp CreateModel(SyntheticClassification data)
    {
        lock (BenchTorch.Lock)
        {
            torch.manual_seed(Seed);
            return new Mlp(data.Features, Width, Layers, data.Classes);
        }
    }

    /// <summary>Fresh samples every step, a different share on each rank; samples are a function of their index.</summary>
    private long[] BatchIndices(Communicator comm, int step)
    {
        long first = ((long)step * comm.Size + comm.Rank) * Batch;
        return Enumerable.Range(0, Batch).Select(i => first + i).ToArray();
    }

    private static void ComputeGradients(Mlp model, Tensor inputs, Tensor labels)
    {
        using var scope = NewDisposeScope();
        model.zero_grad();
        nn.functional.cross_entropy(model.forward(inputs), labels).backward();
    }
}
