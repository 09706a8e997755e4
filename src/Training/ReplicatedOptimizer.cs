using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers.Flat;
using Dtrain.Optimizers.Shampoo;
using Dtrain.Contracts.Placement;
using Dtrain.Telemetry;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Training;

/// <summary>
/// The data-parallel update of the built-in jobs, so that a model replicated on every rank stays identical. The
/// optimizer is the job's:
/// <list type="bullet">
/// <item>Adam: the gradients averaged by <see cref="DistributedDataParallel"/> (the job's buckets, compression and
/// overlap), then the same <see cref="FlatAdamW"/> step everywhere;</item>
/// <item>Adam with the job's shard_optimizer_state (ZeRO-1, <see cref="ShardedAdamW"/>): gradients reduce-scattered
/// over flat buffers, each rank updates its shard with its share of the Adam state, the parameters all-gathered;</item>
/// <item>Distributed Shampoo: averaged gradients, its preconditioner blocks split across each group of ranks.</item>
/// </list>
/// Adam in both forms is AdamW without weight decay (the same operations in the same order, bitwise TorchSharp's
/// Adam) over <see cref="FlatParameters"/>: the gradients are views of the flat buffers, zeroed in place.
/// </summary>
public sealed class ReplicatedOptimizer : IDisposable
{
    private readonly nn.Module model;
    private readonly DistributedDataParallel? dataParallel;
    private readonly ShampooOptimizer? shampoo;
    private readonly FlatParameters? flat;
    private readonly FlatAdamW? adam;
    private readonly ShardedAdamW? sharded;

    private ReplicatedOptimizer(
        nn.Module model, DistributedDataParallel? dataParallel, ShampooOptimizer? shampoo, FlatParameters? flat, FlatAdamW? adam, ShardedAdamW? sharded) =>
        (this.model, this.dataParallel, this.shampoo, this.flat, this.adam, this.sharded) = (model, dataParallel, shampoo, flat, adam, sharded);

    /// <param name="ct">The training's token; it also cancels the all-reduces that overlap backward.</param>
    /// <param name="placeBlocks">Places Shampoo's blocks (the coordinator's shard map); null places them on this rank.</param>
    public static async Task<ReplicatedOptimizer> CreateAsync(nn.Module model, Communicator comm, JobSpec job, CancellationToken ct, IShardPlacement? placeBlocks = null)
    {
        if (job.Optimizer == OptimizerKind.Shampoo)
        {
            var shampoo = await ShampooOptimizer.CreateAsync(model.named_parameters(), job.EffectiveShampoo, comm, ct, placeBlocks);
            return new ReplicatedOptimizer(model, await DistributedDataParallel.CreateAsync(model, comm, DataParallelOptions.From(job), ct), shampoo, null, null, null);
        }
        string rank = comm.Rank.ToString();
        // Frozen parameters stay out, as TorchSharp's Adam skips them (their gradient is null): a flat gradient would
        // also hide a missing gradient from DistributedDataParallel, which names such a parameter.
        var flat = new FlatParameters(model.parameters().Where(p => p.requires_grad), job.ShardOptimizerState ? comm.Size : 1);
        var options = new AdamWOptions { LearningRate = job.LearningRate, WeightDecay = 0 };
        if (job.ShardOptimizerState)
        {
            var sharded = new ShardedAdamW(flat, comm, options);
            DtrainMetrics.OptimizerStateBytes.WithLabels(rank).Set(sharded.StateBytesPerRank);
            return new ReplicatedOptimizer(model, null, null, flat, null, sharded);
        }
        var adam = new FlatAdamW(flat, options);
        DtrainMetrics.OptimizerStateBytes.WithLabels(rank).Set(adam.StateBytes);
        // Made after the flat buffers, its buckets find the gradients there and all-reduce them in place.
        return new ReplicatedOptimizer(model, await DistributedDataParallel.CreateAsync(model, comm, DataParallelOptions.From(job), ct), null, flat, adam, null);
    }

    /// <summary>Adam over the flat parameters, when the job's optimizer is adam with replicated state.</summary>
    public FlatAdamW? Adam => adam;

    /// <summary>Distributed Shampoo, when the job's optimizer is shampoo.</summary>
    public ShampooOptimizer? Shampoo => shampoo;

    /// <summary>ZeRO-1's Adam, when the job shards the optimizer state.</summary>
    public ShardedAdamW? Sharded => sharded;

    /// <summary>How long the latest step waited for its gradient averaging once backward had returned (<see cref="DistributedDataParallel.LastGradientSync"/>).</summary>
    public TimeSpan LastGradientSync => dataParallel?.LastGradientSync ?? TimeSpan.Zero;

    /// <summary>Zeroes the gradients before backward; under Adam in place, so that backward accumulates into the flat buffers.</summary>
    public void ZeroGrad()
    {
        if (flat is not null) flat.ZeroGrad();
        else model.zero_grad();
    }

    /// <summary>
    /// Averages this step's gradients across ranks and applies the optimizer; called once backward has returned.
    /// Throws what failed in the all-reduces, also inside backward.
    /// </summary>
    public async Task StepAsync(CancellationToken ct)
    {
        if (sharded is not null)
        {
            await sharded.ReduceGradientsAsync(ct);
            await sharded.StepAsync(ct);
            return;
        }
        await dataParallel!.SynchronizeAsync(ct);
        if (shampoo is not null) await shampoo.StepAsync(ct);
        else adam!.Step();
    }

    public void Dispose()
    {
        dataParallel?.Dispose();
        shampoo?.Dispose();
        adam?.Dispose();
        sharded?.Dispose();
        flat?.Dispose();
    }
}
