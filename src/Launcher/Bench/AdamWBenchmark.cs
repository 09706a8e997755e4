using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.Collectives.Tensors;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Models.Data;
using Dtrain.Models.Transformer;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Flat;
using Dtrain.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Launcher.Bench;

/// <summary>One timed optimizer: its step times (on several ranks, the slowest rank's) and the Adam state bytes a rank holds.</summary>
public sealed record AdamWBenchRow(string Optimizer, int Ranks, double[] StepSeconds, long? StateBytesPerRank)
{
    public double MedianSeconds => Median.Of(StepSeconds);
}

public sealed record AdamWBenchResult(string Device, int ThreadsPerRank, long Parameters, int Tensors, IReadOnlyList<AdamWBenchRow> Rows);

/// <summary>
/// The optimizer step alone on the transformer LM of `dtrain bench overhead` (same default shape), its gradients
/// computed once from one batch and reused: in one process, TorchSharp-style per-parameter AdamW (HeldAdam with
/// decoupled weight decay) against FlatAdamW; then on two in-process ranks, the replicated step (ring all-reduce
/// of the flat gradients, then FlatAdamW) against ZeRO-1 (reduce-scatter, shard update, all-gather).
/// </summary>
public sealed record AdamWBenchmark(TransformerShape Shape, int Batch, int Warmup, int Steps, string Device)
{
    public const double LearningRate = 1e-3;
    public const double WeightDecay = 0.01;
    public const int ShardedRanks = 2;
    private const long Seed = 1;

    /// <summary>Every problem with the settings, each naming the option and the bad value.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var problem in TransformerShapeOptions.Problems(Shape)) yield return problem;
        if (Batch < 1) yield return $"--batch must be at least 1, got {Batch}";
        if (Warmup < 0) yield return $"--warmup must not be negative, got {Warmup}";
        if (Steps < 1) yield return $"--steps must be at least 1, got {Steps}";
    }

    private AdamWOptions Options => new() { LearningRate = LearningRate, WeightDecay = WeightDecay };

    public async Task<AdamWBenchResult> RunAsync(CancellationToken ct)
    {
        // Every row runs with the torch threads of one of the two ranks, so that one-process rows and two-rank rows compare.
        var (device, threads) = BenchTorch.ForRank(Device, ShardedRanks);
        var rows = new List<AdamWBenchRow>();
        long parameters;
        int tensors;
        using (var model = CreateModel(device))
        {
            (parameters, tensors) = (model.parameters().Sum(p => p.numel()), model.parameters().Count());
            ComputeGradients(model, device, rank: 0);
            using var held = new HeldAdam(model.parameters(), LearningRate, weight_decay: WeightDecay, decoupled_weight_decay: true);
            rows.Add(new("HeldAdam per parameter", 1, await TimeAsync(device, () => { held.step(); return Task.CompletedTask; }), null));
        }
        using (var model = CreateModel(device))
        {
            using var flat = new FlatParameters(model.parameters());
            ComputeGradients(model, device, rank: 0);
            using var adamw = new FlatAdamW(flat, Options);
            rows.Add(new("FlatAdamW", 1, await TimeAsync(device, () => { adamw.Step(); return Task.CompletedTask; }), adamw.StateBytes));
        }
        rows.Add(await OnRanksAsync("replicated: all-reduce + FlatAdamW", (comm, flat) =>
        {
            var adamw = new FlatAdamW(flat, Options);
            return (Step: async () =>
            {
                foreach (var group in flat.Groups) await comm.AllReduceAsync(group.Gradients, ReduceOp.Average, ct);
                adamw.Step();
            }, adamw.StateBytes, adamw);
        }));
        rows.Add(await OnRanksAsync("ZeRO-1: ShardedAdamW", (comm, flat) =>
        {
            var zero = new ShardedAdamW(flat, comm, Options);
            return (Step: async () =>
            {
                await zero.ReduceGradientsAsync(ct);
                await zero.StepAsync(ct);
            }, zero.StateBytesPerRank, zero);
        }));
        return new AdamWBenchResult(device.type.ToString().ToLowerInvariant(), threads, parameters, tensors, rows);
    }

    /// <summary>Times <paramref name="step"/> on <see cref="ShardedRanks"/> in-process ranks, each with its own copy of the model.</summary>
    private async Task<AdamWBenchRow> OnRanksAsync(
        string name, Func<Communicator, FlatParameters, (Func<Task> Step, long StateBytes, IDisposable Optimizer)> create)
    {
        var perRank = await Task.WhenAll(InProcessGroup.Create(ShardedRanks).Select(comm => Task.Run(async () =>
        {
            var (device, _) = BenchTorch.ForRank(Device, comm.Size);
            using var model = CreateModel(device);
            using var flat = new FlatParameters(model.parameters(), shards: comm.Size);
            ComputeGradients(model, device, comm.Rank);
            var (step, stateBytes, optimizer) = create(comm, flat);
            using (optimizer)
            {
                await comm.BarrierAsync();
                double[] seconds = await TimeAsync(device, step);
                await comm.AllReduceAsync<double>(seconds, ReduceOp.Max);
                return (seconds, stateBytes);
            }
        })));
        return new AdamWBenchRow(name, ShardedRanks, perRank[0].seconds, perRank[0].stateBytes);
    }

    private async Task<double[]> TimeAsync(Device device, Func<Task> step)
    {
        var seconds = new double[Steps];
        for (int i = 0; i < Warmup + Steps; i++)
        {
            long started = Stopwatch.GetTimestamp();
            await step();
            if (device.type == DeviceType.CUDA) cuda.synchronize();
            if (i >= Warmup) seconds[i - Warmup] = Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
        return seconds;
    }

    private TransformerLm CreateModel(Device device)
    {
        var model = TrainingSteps.CreateSeeded(Seed, Shape.CreateModel);
        model.to(device);
        return model;
    }

    /// <summary>Fills the gradients from one batch of synthetic tokens; the timed steps reuse them.</summary>
    private void ComputeGradients(TransformerLm model, Device device, int rank)
    {
        using var scope = NewDisposeScope();
        var (inputs, targets) = new SyntheticTokens(Seed, Shape.Vocabulary).Batch(Enumerable.Range(rank * Batch, Batch).Select(i => (long)i).ToArray(), Shape.Context, device);
        nn.functional.cross_entropy(model.forward(inputs).flatten(0, -2), targets.flatten()).backward();
    }
}
