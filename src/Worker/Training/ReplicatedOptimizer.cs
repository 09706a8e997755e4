using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Shampoo;
using Dtrain.Optimizers.Shampoo.Distributor;
using Dtrain.Telemetry;
using TorchSharp;
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
    private readonly bool onCuda;
    private readonly string rank;

    private ReplicatedOptimizer(Communicator comm, GradientBuckets buckets, HeldAdam? adam, ShampooOptimizer? shampoo, bool onCuda) =>
        (this.comm, this.buckets, this.adam, this.shampoo, this.onCuda, rank) = (comm, buckets, adam, shampoo, onCuda, comm.Rank.ToString());

    /// <param name="placeBlocks">Places Shampoo's blocks (the coordinator's shard map); null places them on this rank.</param>
    public static async Task<ReplicatedOptimizer> CreateAsync(nn.Module model, Communicator comm, JobSpec job, CancellationToken ct, BlockPlacement? placeBlocks = null)
    {
        var adam = job.Optimizer == "adam" ? new HeldAdam(model.parameters(), job.LearningRate) : null;
        var shampoo = job.Optimizer == "shampoo"
            ? await ShampooOptimizer.CreateAsync(model.named_parameters(), JobShampoo.Options(job), comm, ct, placeBlocks)
            : null;
        var buckets = new GradientBuckets(model.parameters(), job.BucketBytes, job.Compression == "bf16");
        bool onCuda = model.parameters().Any(p => p.device_type == DeviceType.CUDA);
        return new ReplicatedOptimizer(comm, buckets, adam, shampoo, onCuda);
    }

    /// <summary>The Adam optimizer, when the job's optimizer is adam.</summary>
    public HeldAdam? Adam => adam;

    /// <summary>Distributed Shampoo, when the job's optimizer is shampoo.</summary>
    public ShampooOptimizer? Shampoo => shampoo;

    /// <summary>How long the latest step's gradient averaging took (also dtrain_gradient_sync_duration_seconds).</summary>
    public TimeSpan LastGradientSync { get; private set; }

    /// <summary>Averages this step's gradients across ranks and applies the optimizer.</summary>
    public async Task StepAsync(CancellationToken ct)
    {
        // Backward's kernels may still be running; the first staging copy would wait for them inside the timing.
        if (onCuda && comm.Size > 1) cuda.synchronize();
        long started = Stopwatch.GetTimestamp();
        await buckets.AverageAsync(comm, ct);
        LastGradientSync = Stopwatch.GetElapsedTime(started);
        DtrainMetrics.GradientSyncDuration.WithLabels(rank).Observe(LastGradientSync.TotalSeconds);
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
