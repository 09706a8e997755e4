using Dtrain.Collectives;
using Dtrain.Collectives.Tensors;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Flat;

/// <summary>
/// ZeRO stage 1 AdamW: every rank keeps the whole model and gradients but Adam state for its own contiguous shard
/// (1/Size) of each flat buffer only. A step is three calls after backward: <see cref="ReduceGradientsAsync"/>
/// reduce-scatters the gradients, averaged, so that each rank holds its shard's average; optionally
/// <see cref="ClipGradNormAsync"/>; then <see cref="StepAsync"/> updates the shard and all-gathers the values.
/// The result is bitwise that of the replicated path over the same <see cref="FlatParameters"/> (padded for Size
/// shards): each group's whole flat gradient all-reduced (Average) with the ring algorithm, then
/// <see cref="GradientClipping.ClipGradNorm"/> and <see cref="FlatAdamW"/>. The ring all-reduce is a reduce-scatter
/// over the same equal blocks followed by an all-gather, so every element is summed in the same order and divided
/// the same way. A per-bucket all-reduce (GradientBuckets) or recursive doubling sums in other orders: on two ranks
/// that is still bitwise the same (one addition commutes), on three or more it may differ in the last bit.
/// </summary>
public sealed class ShardedAdamW : IAdjustableLearningRate, IDisposable
{
    private readonly FlatParameters parameters;
    private readonly Communicator comm;
    private readonly AdamWOptions options;
    private readonly AdamWShard state;

    public ShardedAdamW(FlatParameters parameters, Communicator comm, AdamWOptions options)
    {
        options.Validate();
        if (parameters.Shards != comm.Size)
        {
            throw new ArgumentException($"the flat parameters are laid out for {parameters.Shards} shards, the group has {comm.Size} ranks: flatten them with shards: {comm.Size}");
        }
        (this.parameters, this.comm, this.options) = (parameters, comm, options);
        state = new AdamWShard(parameters, comm.Rank, comm.Size);
        LearningRate = options.LearningRate;
    }

    public double LearningRate { get; set; }

    /// <summary>The flat buffers it steps (a saved state loads onto them).</summary>
    public FlatParameters Parameters => parameters;

    public long Steps => state.Step;

    /// <summary>Adam state bytes this rank holds: the replicated optimizer's divided by the number of ranks.</summary>
    public long StateBytesPerRank => state.StateBytes;

    /// <summary>Averages the gradients across ranks into this rank's shard of each flat gradient; the rest of it is left as it was.</summary>
    public async Task ReduceGradientsAsync(CancellationToken ct = default)
    {
        parameters.AttachGradients();
        for (int g = 0; g < parameters.Groups.Count; g++)
        {
            var gradients = parameters.Groups[g].Gradients;
            using var shard = state.Of(g, gradients);
            await comm.ReduceScatterAsync(gradients, shard, ReduceOp.Average, ct);
        }
    }

    /// <summary>Clips this rank's shard of the averaged gradients by the global norm; returns the norm before clipping. Every rank must call it.</summary>
    public async Task<double> ClipGradNormAsync(double maxNorm, CancellationToken ct = default)
    {
        var blockSums = new double[comm.Size];
        blockSums[comm.Rank] = GradientClipping.BlockSumOfSquares(parameters, comm.Rank, comm.Size);
        await comm.AllGatherAsync<double>(blockSums.AsMemory(comm.Rank, 1), blockSums, ct);
        double norm = GradientClipping.Norm(blockSums);
        using var scope = NewDisposeScope();
        GradientClipping.Scale(parameters.Groups.Select((g, i) => state.Of(i, g.Gradients)).ToArray(), norm, maxNorm);
        return norm;
    }

    /// <summary>Updates this rank's shard from its averaged gradients, then all-gathers every rank's shard into the values.</summary>
    public async Task StepAsync(CancellationToken ct = default)
    {
        state.Update(options, LearningRate);
        for (int g = 0; g < parameters.Groups.Count; g++)
        {
            var values = parameters.Groups[g].Values;
            using var shard = state.Of(g, values);
            await comm.AllGatherAsync(shard, values, ct: ct);
        }
    }

    /// <summary>The whole state per parameter, gathered from every rank onto every rank (for a checkpoint). Every rank must call it.</summary>
    public async Task<AdamWState> GatherStateAsync(CancellationToken ct = default)
    {
        var full = new AdamWMoments[parameters.Groups.Count];
        for (int g = 0; g < full.Length; g++)
        {
            var (expAvg, expAvgSq) = state.Moments(g);
            full[g] = new AdamWMoments(zeros_like(parameters.Groups[g].Values).DetachFromDisposeScope(), zeros_like(parameters.Groups[g].Values).DetachFromDisposeScope());
            await comm.AllGatherAsync(expAvg, full[g].ExpAvg, ct: ct);
            await comm.AllGatherAsync(expAvgSq, full[g].ExpAvgSq, ct: ct);
        }
        var gathered = new AdamWState(state.Step, parameters.Slots.Select(slot => new AdamWMoments(
            parameters.ViewOf(slot, full[slot.Group].ExpAvg).DetachFromDisposeScope(),
            parameters.ViewOf(slot, full[slot.Group].ExpAvgSq).DetachFromDisposeScope())).ToArray());
        foreach (var (expAvg, expAvgSq) in full)   // the views keep the storage
        {
            expAvg.Dispose();
            expAvgSq.Dispose();
        }
        return gathered;
    }

    /// <summary>Takes this rank's shard of a whole state, saved on any number of ranks.</summary>
    public void LoadState(AdamWState saved) => state.Load(saved);

    public void Dispose() => state.Dispose();
}
