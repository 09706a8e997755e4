using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Flat;
using Dtrain.Optimizers.Shampoo;
using Dtrain.Optimizers.Shampoo.Distributor;
using Dtrain.Telemetry;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Training;

/// <summary>
/// The data-parallel update of the built-in jobs, so that a model replicated on every rank stays identical. The
/// optimizer is the job's:
/// <list type="bullet">
/// <item>Adam: the gradients averaged by <see cref="DistributedDataParallel"/> (the job's buckets, compression and
/// overlap), then the same Adam step everywhere;</item>
/// <item>Adam with the job's shard_optimizer_state (ZeRO-1, <see cref="ShardedAdamW"/>): gradients reduce-scattered
/// over flat buffers, each rank updates its shard with its share of the Adam state, the parameters all-gathered;</item>
/// <item>Distributed Shampoo: averaged gradients, its preconditioner blocks split across each group of ranks.</item>
/// </list>
/// </summary>
public sealed class ReplicatedOptimizer : IDisposable
{
    private readonly nn.Module model;
    private readonly DistributedDataParallel? dataParallel;
    private readonly HeldAdam? adam;
    private readonly ShampooOptimizer? shampoo;
    private readonly FlatParameters? flat;
    private readonly ShardedAdamW? sharded;

    private ReplicatedOptimizer(
        nn.Module model, DistributedDataParallel? dataParallel, HeldAdam? adam, ShampooOptimizer? shampoo, FlatParameters? flat, ShardedAdamW? sharded) =>
        (this.model, this.dataParallel, this.adam, this.shampoo, this.flat, this.sharded) = (model, dataParallel, adam, shampoo, flat, sharded);

    /// <param name="ct">The training's token; it also cancels the all-reduces that overlap backward.</param>
    /// <param name="placeBlocks">Places Shampoo's blocks (the coordinator's shard map); null places them on this rank.</param>
    public static async Task<ReplicatedOptimizer> CreateAsync(nn.Module model, Communicator comm, JobSpec job, CancellationToken ct, BlockPlacement? placeBlocks = null)
    {
        string rank = comm.Rank.ToString();
        if (job.ShardOptimizerState)
        {
            var flat = new FlatParameters(model.parameters(), comm.Size);
            // Adam is AdamW without weight decay: the same operations in the same order, bitwise.
            var sharded = new ShardedAdamW(flat, comm, new AdamWOptions { LearningRate = job.LearningRate, WeightDecay = 0 });
            DtrainMetrics.OptimizerStateBytes.WithLabels(rank).Set(sharded.StateBytesPerRank);
            return new ReplicatedOptimizer(model, null, null, null, flat, sharded);
        }
        var adam = job.Optimizer == OptimizerKind.Adam ? new HeldAdam(model.parameters(), job.LearningRate) : null;
        var shampoo = job.Optimizer == OptimizerKind.Shampoo
            ? await ShampooOptimizer.CreateAsync(model.named_parameters(), job.EffectiveShampoo, comm, ct, placeBlocks)
            : null;
        if (adam is not null) DtrainMetrics.OptimizerStateBytes.WithLabels(rank).Set(2 * model.parameters().Sum(p => p.numel() * p.element_size()));
        var dataParallel = await DistributedDataParallel.CreateAsync(model, comm, DataParallelOptions.From(job), ct);
        return new ReplicatedOptimizer(model, dataParallel, adam, shampoo, null, null);
    }

    /// <summary>The Adam optimizer, when the job's optimizer is adam with replicated state.</summary>
    public HeldAdam? Adam => adam;

    /// <summary>Distributed Shampoo, when the job's optimizer is shampoo.</summary>
    public ShampooOptimizer? Shampoo => shampoo;

    /// <summary>ZeRO-1's Adam, when the job shards the optimizer state.</summary>
    public ShardedAdamW? Sharded => sharded;

    /// <summary>The parameters' flat buffers under ZeRO-1 (null otherwise): the checkpoint's state layout follows them.</summary>
    public FlatParameters? Flat => flat;

    /// <summary>How long the latest step waited for its gradient averaging once backward had returned (<see cref="DistributedDataParallel.LastGradientSync"/>).</summary>
    public TimeSpan LastGradientSync => dataParallel?.LastGradientSync ?? TimeSpan.Zero;

    /// <summary>Zeroes the gradients before backward; under ZeRO-1 in place, so that backward accumulates into the flat buffers.</summary>
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
        else adam!.step();
    }

    public void Dispose()
    {
        dataParallel?.Dispose();
        adam?.Dispose();
        shampoo?.Dispose();
        sharded?.Dispose();
        flat?.Dispose();
    }
}
