using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Shampoo;
using Dtrain.Optimizers.Shampoo.Distributor;
using Dtrain.Telemetry;
using Dtrain.Collectives.DataParallel;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Worker.Training;

/// <summary>
/// The data-parallel update, as DDP does it: average the gradients over all ranks in buckets, then take the same
/// optimizer step everywhere, so a model replicated on every rank stays identical. With the job's overlap (the
/// default) each bucket's all-reduce starts during backward (<see cref="OverlappedGradientSync"/>), else all of them
/// after it. The optimizer is the job's: Adam, or Distributed Shampoo with its preconditioner blocks split across
/// each group of ranks.
/// </summary>
public sealed class ReplicatedOptimizer : IDisposable
{
    private readonly Communicator comm;
    private readonly GradientBuckets buckets;
    private readonly OverlappedGradientSync? overlap;
    private readonly HeldAdam? adam;
    private readonly ShampooOptimizer? shampoo;
    private readonly bool onCuda;
    private readonly string rank;

    private ReplicatedOptimizer(Communicator comm, GradientBuckets buckets, OverlappedGradientSync? overlap, HeldAdam? adam, ShampooOptimizer? shampoo, bool onCuda) =>
        (this.comm, this.buckets, this.overlap, this.adam, this.shampoo, this.onCuda, rank) = (comm, buckets, overlap, adam, shampoo, onCuda, comm.Rank.ToString());

    /// <param name="ct">The training's token; it also cancels the all-reduces that overlap backward.</param>
    /// <param name="placeBlocks">Places Shampoo's blocks (the coordinator's shard map); null places them on this rank.</param>
    public static async Task<ReplicatedOptimizer> CreateAsync(nn.Module model, Communicator comm, JobSpec job, CancellationToken ct, BlockPlacement? placeBlocks = null)
    {
        var adam = job.Optimizer == "adam" ? new HeldAdam(model.parameters(), job.LearningRate) : null;
        var shampoo = job.Optimizer == "shampoo"
            ? await ShampooOptimizer.CreateAsync(model.named_parameters(), JobShampoo.Options(job), comm, ct, placeBlocks)
            : null;
        var buckets = new GradientBuckets(model.named_parameters(), job.BucketBytes, job.Compression == "bf16");
        var overlap = job.Overlap && comm.Size > 1 ? new OverlappedGradientSync(model, buckets, comm, ct) : null;
        bool onCuda = model.parameters().Any(p => p.device_type == DeviceType.CUDA);
        return new ReplicatedOptimizer(comm, buckets, overlap, adam, shampoo, onCuda);
    }

    /// <summary>The Adam optimizer, when the job's optimizer is adam.</summary>
    public HeldAdam? Adam => adam;

    /// <summary>Distributed Shampoo, when the job's optimizer is shampoo.</summary>
    public ShampooOptimizer? Shampoo => shampoo;

    /// <summary>
    /// How long the latest step waited for its gradient averaging once backward had returned (also
    /// dtrain_gradient_sync_duration_seconds). With overlap that is the part backward did not hide: the all-reduces
    /// still running, those of the buckets that could only start after backward, and writing the averages back.
    /// </summary>
    public TimeSpan LastGradientSync { get; private set; }

    /// <summary>
    /// Averages this step's gradients across ranks and applies the optimizer; called once backward has returned.
    /// Throws what failed in the all-reduces, also inside backward.
    /// </summary>
    public async Task StepAsync(CancellationToken ct)
    {
        // Backward's kernels may still be running; the first staging copy would wait for them inside the timing.
        if (onCuda && comm.Size > 1) cuda.synchronize();
        long started = Stopwatch.GetTimestamp();
        await (overlap?.FinishAsync() ?? buckets.AverageAsync(comm, ct));
        LastGradientSync = Stopwatch.GetElapsedTime(started);
        DtrainMetrics.GradientSyncDuration.WithLabels(rank).Observe(LastGradientSync.TotalSeconds);
        if (shampoo is not null) await shampoo.StepAsync(ct);
        else adam!.step();
    }

    public void Dispose()
    {
        overlap?.Dispose();
        buckets.Dispose();
        adam?.Dispose();
        shampoo?.Dispose();
    }
}
