using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Shampoo;
using Dtrain.Optimizers.Shampoo.Distributor;
using static TorchSharp.torch;

namespace Dtrain.Worker.Training;

/// <summary>
/// The data-parallel update, as DDP does it: average the gradients over all ranks in buckets, then take the same
/// optimizer step everywhere, so a model replicated on every rank stays identical. The optimizer is the job's:
/// Adam, or Distributed Shampoo with its preconditioner blocks split across each group of ranks.
/// </summary>
public sealed class ReplicatedOptimizer : IDisposable
{
    private readonly Communicator comm;
    private readonly GradientBuckets buckets;
    private readonly HeldAdam? adam;
    private readonly ShampooOptimizer? shampoo;

    private ReplicatedOptimizer(Communicator comm, GradientBuckets buckets, HeldAdam? adam, ShampooOptimizer? shampoo) =>
        (this.comm, this.buckets, this.adam, this.shampoo) = (comm, buckets, adam, shampoo);

    /// <param name="placeBlocks">Places Shampoo's blocks (the coordinator's shard map); null places them on this rank.</param>
    public static async Task<ReplicatedOptimizer> CreateAsync(nn.Module model, Communicator comm, JobSpec job, CancellationToken ct, BlockPlacement? placeBlocks = null)
    {
        var adam = job.Optimizer == "adam" ? new HeldAdam(model.parameters(), job.LearningRate) : null;
        var shampoo = job.Optimizer == "shampoo"
            ? await ShampooOptimizer.CreateAsync(model.named_parameters(), JobShampoo.Options(job), comm, ct, placeBlocks)
            : null;
        var buckets = new GradientBuckets(model.parameters(), job.BucketBytes, job.Compression == "bf16");
        return new ReplicatedOptimizer(comm, buckets, adam, shampoo);
    }

    /// <summary>The Adam optimizer, when the job's optimizer is adam.</summary>
    public HeldAdam? Adam => adam;

    /// <summary>Distributed Shampoo, when the job's optimizer is shampoo.</summary>
    public ShampooOptimizer? Shampoo => shampoo;

    /// <summary>Averages this step's gradients across ranks and applies the optimizer.</summary>
    public async Task StepAsync(CancellationToken ct)
    {
        await buckets.AverageAsync(comm, ct);
        if (shampoo is not null) await shampoo.StepAsync(ct);
        else adam!.step();
    }

    public void Dispose()
    {
        buckets.Dispose();
        adam?.Dispose();
        shampoo?.Dispose();
    }
}
