using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.Collectives.DataParallel;
using Dtrain.Collectives.Tensors;
using Dtrain.Contracts.Jobs;
using Dtrain.Telemetry;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Distributed;

/// <summary>How <see cref="DistributedDataParallel"/> averages gradients.</summary>
public sealed record DataParallelOptions
{
    /// <summary>Gradients travel in buckets of at most this many bytes (PyTorch DDP's default: 25 MiB).</summary>
    public long BucketBytes { get; init; } = 25L << 20;

    /// <summary>Buckets travel as bfloat16: half the bytes, gradients rounded to 8 significant bits.</summary>
    public bool CompressToBFloat16 { get; init; }

    /// <summary>Each bucket's all-reduce starts during backward, once its gradients are final.</summary>
    public bool Overlap { get; init; } = true;

    /// <summary>The job's --bucket-mb, --compression and --overlap.</summary>
    public static DataParallelOptions From(JobSpec job) =>
        new() { BucketBytes = job.BucketBytes, CompressToBFloat16 = job.Compression == CompressionKind.Bf16, Overlap = job.Overlap };
}

/// <summary>
/// Data-parallel training of any module, as PyTorch's DistributedDataParallel: every rank holds the whole module,
/// computes gradients on its own data, and <see cref="SynchronizeAsync"/> (after backward, before the optimizer's
/// step) averages them over the ranks, in buckets whose all-reduces start during backward. The loss, the loop and the
/// optimizer stay the caller's. Micro-batches whose gradients only accumulate run inside <see cref="NoSync"/>.
/// <para>
/// The overlap needs the module's layers to be called with call() (as Sequential does), and each parameter to be used
/// only by the module that owns it; otherwise the affected buckets are reduced after backward. The result is the same
/// either way, bit for bit.
/// </para>
/// <para>
/// When the gradients are views of flat buffers (<see cref="Optimizers.Flat.FlatParameters"/>, made before this),
/// each bucket is a span of a flat gradient, all-reduced in place instead of being copied out and back.
/// </para>
/// </summary>
public sealed class DistributedDataParallel : IDisposable
{
    private readonly Communicator comm;
    private readonly GradientBuckets buckets;
    private readonly OverlappedGradientSync? overlap;
    private readonly bool onCuda;
    private readonly string rank;

    private DistributedDataParallel(nn.Module module, Communicator comm, DataParallelOptions options, CancellationToken ct)
    {
        Module = module;
        this.comm = comm;
        buckets = new GradientBuckets(module.named_parameters(), options.BucketBytes, options.CompressToBFloat16);
        overlap = options.Overlap && comm.Size > 1 ? new OverlappedGradientSync(module, buckets, comm, ct) : null;
        onCuda = module.parameters().Any(p => p.device_type == DeviceType.CUDA);
        rank = comm.Rank.ToString();
    }

    /// <summary>
    /// Wraps <paramref name="module"/> (already on its device), after copying rank 0's parameters and buffers to
    /// every rank, so that all ranks start equal however each created its module.
    /// </summary>
    /// <param name="ct">Also cancels the all-reduces that start inside backward.</param>
    public static async Task<DistributedDataParallel> CreateAsync(nn.Module module, Communicator comm, DataParallelOptions? options = null, CancellationToken ct = default)
    {
        foreach (var tensor in comm.Size > 1 ? module.parameters().Concat(module.buffers()) : [])
        {
            // A detached view shares the parameter's memory and may be written without no_grad, whose thread-local
            // mode would not survive the await.
            using var values = tensor.detach();
            await comm.BroadcastAsync(values, 0, ct);
        }
        return new DistributedDataParallel(module, comm, options ?? new DataParallelOptions(), ct);
    }

    /// <summary>Wraps <paramref name="module"/> with the job's bucket size, compression and overlap, over the epoch's communicator.</summary>
    public static Task<DistributedDataParallel> CreateAsync(nn.Module module, DistributedContext context, CancellationToken ct = default) =>
        CreateAsync(module, context.Communicator, DataParallelOptions.From(context.Job), ct);

    public nn.Module Module { get; }

    /// <summary>How many buckets the gradients travel in.</summary>
    public int BucketCount => buckets.Count;

    /// <summary>
    /// How long the latest <see cref="SynchronizeAsync"/> waited once backward had returned (also
    /// dtrain_gradient_sync_duration_seconds): with overlap, the part backward did not hide.
    /// </summary>
    public TimeSpan LastGradientSync { get; private set; }

    /// <summary>
    /// Averages this step's gradients over the ranks; call once backward has returned. Throws what failed in the
    /// all-reduces, also those inside backward.
    /// </summary>
    public async Task SynchronizeAsync(CancellationToken ct = default)
    {
        // Backward's kernels may still be running; the first staging copy would wait for them inside the timing.
        if (onCuda && comm.Size > 1) cuda.synchronize();
        long started = Stopwatch.GetTimestamp();
        await (overlap?.FinishAsync() ?? buckets.AverageAsync(comm, ct));
        LastGradientSync = Stopwatch.GetElapsedTime(started);
        DtrainMetrics.GradientSyncDuration.WithLabels(rank).Observe(LastGradientSync.TotalSeconds);
    }

    /// <summary>
    /// Gradient accumulation, as DDP's no_sync: forward and backward inside the returned scope only add to the
    /// gradients, with no communication. The micro-batch after it (outside the scope) is followed by
    /// <see cref="SynchronizeAsync"/>, which averages the sums.
    /// </summary>
    public IDisposable NoSync()
    {
        if (overlap is null) return new Scope(() => { });
        overlap.Enabled = false;
        return new Scope(() => overlap.Enabled = true);
    }

    public void Dispose()
    {
        overlap?.Dispose();
        buckets.Dispose();
    }

    private sealed class Scope(Action end) : IDisposable
    {
        public void Dispose() => end();
    }
}
