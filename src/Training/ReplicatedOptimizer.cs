using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Shampoo;
using Dtrain.Optimizers.Shampoo.Distributor;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Training;

/// <summary>
/// The data-parallel update of the built-in jobs: average the gradients over all ranks (<see cref="DistributedDataParallel"/>
/// with the job's buckets, compression and overlap), then take the same optimizer step everywhere, so a model
/// replicated on every rank stays identical. The optimizer is the job's: Adam, or Distributed Shampoo with its preconditioner blocks split across
/// each group of ranks.
/// </summary>
public sealed class ReplicatedOptimizer : IDisposable
{
    private readonly DistributedDataParallel dataParallel;
    private readonly HeldAdam? adam;
    private readonly ShampooOptimizer? shampoo;

    private ReplicatedOptimizer(DistributedDataParallel dataParallel, HeldAdam? adam, ShampooOptimizer? shampoo) =>
        (this.dataParallel, this.adam, this.shampoo) = (dataParallel, adam, shampoo);

    /// <param name="ct">The training's token; it also cancels the all-reduces that overlap backward.</param>
    /// <param name="placeBlocks">Places Shampoo's blocks (the coordinator's shard map); null places them on this rank.</param>
    public static async Task<ReplicatedOptimizer> CreateAsync(nn.Module model, Communicator comm, JobSpec job, CancellationToken ct, BlockPlacement? placeBlocks = null)
    {
        var adam = job.Optimizer == "adam" ? new HeldAdam(model.parameters(), job.LearningRate) : null;
        var shampoo = job.Optimizer == "shampoo"
            ? await ShampooOptimizer.CreateAsync(model.named_parameters(), JobShampoo.Options(job), comm, ct, placeBlocks)
            : null;
        var dataParallel = await DistributedDataParallel.CreateAsync(model, comm, DataParallelOptions.From(job), ct);
        return new ReplicatedOptimizer(dataParallel, adam, shampoo);
    }

    /// <summary>The Adam optimizer, when the job's optimizer is adam.</summary>
    public HeldAdam? Adam => adam;

    /// <summary>Distributed Shampoo, when the job's optimizer is shampoo.</summary>
    public ShampooOptimizer? Shampoo => shampoo;

    /// <summary>How long the latest step waited for its gradient averaging once backward had returned (<see cref="DistributedDataParallel.LastGradientSync"/>).</summary>
    public TimeSpan LastGradientSync => dataParallel.LastGradientSync;

    /// <summary>
    /// Averages this step's gradients across ranks and applies the optimizer; called once backward has returned.
    /// Throws what failed in the all-reduces, also inside backward.
    /// </summary>
    public async Task StepAsync(CancellationToken ct)
    {
        await dataParallel.SynchronizeAsync(ct);
        if (shampoo is not null) await shampoo.StepAsync(ct);
        else adam!.step();
    }

    public void Dispose()
    {
        dataParallel.Dispose();
        adam?.Dispose();
        shampoo?.Dispose();
    }
}
