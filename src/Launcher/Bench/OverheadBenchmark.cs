using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Models;
using Dtrain.Models.Data;
using Dtrain.Models.Transformer;
using Dtrain.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// What the timed steps measured, per step the slowest rank's: the whole step, and within it the gradient
/// averaging (with overlap, the part of it the step waited for after backward). The losses are rank 0's, of the
/// first step and of the last.
/// </summary>
public sealed record OverheadBenchResult(
    string Device, int ThreadsPerRank, long Parameters, double[] StepSeconds, double[] SyncSeconds, double FirstLoss, double LastLoss)
{
    public double MedianSeconds => Median.Of(StepSeconds);

    public double MeanSeconds => StepSeconds.Average();

    /// <summary>The share of all timed step time spent averaging gradients (with overlap: waiting for it after backward).</summary>
    public double SyncShare => SyncSeconds.Sum() / StepSeconds.Sum();
}

/// <summary>
/// Issue 9's framework-overhead benchmark: training steps of the MLP or the transformer LM through the code
/// `dtrain run` trains with (<see cref="DataParallelStep"/>: the job's Adam and gradient buckets, then the step's
/// metrics), one rank against bench/overhead.py's PyTorch eager loop on the same model and data, or several ranks
/// on one device for data-parallel scaling. <see cref="DistinctBatches"/> batches are made on the device before the
/// timing and cycled, on both sides, so that the time is the step's and not the data generator's.
/// </summary>
/// <param name="Model">mlp or transformer-lm.</param>
/// <param name="Shape">transformer-lm: the model's shape; MLP: its width is the hidden units per layer, its layers the hidden layers.</param>
/// <param name="Batch">Samples (MLP) or sequences (transformer-lm) per rank per step.</param>
/// <param name="Warmup">Untimed steps first.</param>
/// <param name="Steps">Timed steps.</param>
/// <param name="Device">cpu, cuda or auto.</param>
/// <param name="BucketMegabytes">Gradient bucket size in MiB, as the job's bucket_mb.</param>
/// <param name="Overlap">Start each gradient bucket's all-reduce during backward (the job default), or all after it.</param>
public sealed record OverheadBenchmark(
    string Model, TransformerShape Shape, int Batch, int Warmup, int Steps, string Device, double BucketMegabytes, bool Overlap)
{
    public static readonly string[] Models = ["mlp", "transformer-lm"];
    public const double LearningRate = 1e-3;
    public const int DistinctBatches = 8;
    private const long Seed = 1;

    /// <summary>Every problem with the settings, each naming the option and the bad value.</summary>
    public IEnumerable<string> Problems()
    {
        var shapeProblems = Model == "transformer-lm" ? TransformerShapeOptions.Problems(Shape) : TransformerShapeOptions.WidthAndLayersProblems(Shape);
        foreach (var problem in shapeProblems) yield return problem;
        if (Batch < 1) yield return $"--batch must be at least 1, got {Batch}";
        if (Warmup < 0) yield return $"--warmup must not be negative, got {Warmup}";
        if (Steps < 1) yield return $"--steps must be at least 1, got {Steps}";
        if (!(BucketMegabytes > 0) || double.IsInfinity(BucketMegabytes)) yield return $"--bucket-mb must be a positive number, got {BucketMegabytes}";
    }

    /// <summary>Runs the timed steps on this rank; every rank of <paramref name="comm"/> must run it.</summary>
    public async Task<OverheadBenchResult> RunAsync(Communicator comm, CancellationToken ct)
    {
        var (device, threads) = BenchTorch.ForRank(Device, comm.Size);
        var (create, makeBatch) = Workload();
        using var model = TrainingSteps.CreateSeeded(Seed, create);
        model.to(device);
        var job = new JobSpec { Workers = comm.Size, BatchSize = Batch, LearningRate = LearningRate, Seed = Seed, Optimizer = OptimizerKind.Adam,
            BucketMegabytes = BucketMegabytes, Overlap = Overlap };
        using var optimizer = await ReplicatedOptimizer.CreateAsync(model, comm, job, ct);
        var batches = Enumerable.Range(0, DistinctBatches).Select(i => makeBatch(BatchIndices(comm, i), device)).ToArray();
        try
        {
            string rank = comm.Rank.ToString();
            var seconds = new double[2 * Steps];   // step times, then gradient averaging times: one all-reduce for both
            double firstLoss = double.NaN, loss = double.NaN;
            for (int step = 0; step < Warmup + Steps; step++)
            {
                if (step == Warmup) await comm.BarrierAsync(ct);
                var (inputs, targets) = batches[step % DistinctBatches];
                long started = Stopwatch.GetTimestamp();
                loss = await DataParallelStep.RunAsync(model, optimizer, inputs, targets, ct);
                TrainingSteps.Finished(null, rank, step, started, Batch, loss);
                if (device.type == DeviceType.CUDA) cuda.synchronize();
                if (step == 0) firstLoss = loss;
                if (step < Warmup) continue;
                seconds[step - Warmup] = Stopwatch.GetElapsedTime(started).TotalSeconds;
                seconds[Steps + step - Warmup] = optimizer.LastGradientSync.TotalSeconds;
            }
            await comm.AllReduceAsync<double>(seconds, ReduceOp.Max, ct);
            long parameters = model.parameters().Sum(p => p.numel());
            return new OverheadBenchResult(device.type.ToString().ToLowerInvariant(), threads, parameters,
                seconds[..Steps], seconds[Steps..], firstLoss, loss);
        }
        finally
        {
            foreach (var (inputs, targets) in batches)
            {
                inputs.Dispose();
                targets.Dispose();
            }
        }
    }

    /// <summary>The model, and how to make a batch of its task at given sample indices.</summary>
    private (Func<nn.Module<Tensor, Tensor>> Create, Func<long[], Device, (Tensor, Tensor)> MakeBatch) Workload()
    {
        if (Model == "mlp")
        {
            var data = new SyntheticClassification(Seed);
            return (() => new Mlp(data.Features, Shape.Width, Shape.Layers, data.Classes), (indices, device) => data.Batch(indices, device));
        }
        var tokens = new SyntheticTokens(Seed, Shape.Vocabulary);
        return (Shape.CreateModel, (indices, device) => tokens.Batch(indices, Shape.Context, device));
    }

    /// <summary>Batch i of a rank: its own share of the samples, each a function of its index.</summary>
    private long[] BatchIndices(Communicator comm, int i)
    {
        long first = ((long)i * comm.Size + comm.Rank) * Batch;
        return Enumerable.Range(0, Batch).Select(k => first + k).ToArray();
    }
}
