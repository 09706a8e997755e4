using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.Collectives.Tensors;
using static TorchSharp.torch;

namespace Dtrain.Collectives.DataParallel;

/// <summary>
/// Averages gradients across ranks as PyTorch DDP does: each bucket is packed and its all-reduce started during
/// backward, as soon as its gradients are final (<see cref="BucketSignals"/>), so communication overlaps the rest
/// of backward; <see cref="FinishAsync"/>, once backward has returned, starts the buckets that got no signal, waits
/// for all and writes the averages into the gradients. Same buckets, same all-reduces: the result is bitwise that of
/// <see cref="GradientBuckets.AverageAsync"/>.
/// Every rank must issue its collectives in the same order, and a communicator matches messages in order, so the
/// all-reduces start in bucket order (a ready bucket waits for the ones before it) and one at a time: each starts
/// when the one before it has finished, on host memory, with no torch call.
/// </summary>
public sealed class OverlappedGradientSync : IDisposable
{
    private readonly GradientBuckets buckets;
    private readonly Communicator comm;
    private readonly CancellationToken ct;
    private readonly BackwardFailure failure = new();
    private readonly BucketSignals signals;
    private readonly bool[] ready;
    private readonly long[] reduceStarted;
    private int next;
    private Task reducing = Task.CompletedTask;

    /// <param name="ct">Cancels the all-reduces, which start inside backward where no caller could pass a token.</param>
    public OverlappedGradientSync(nn.Module model, GradientBuckets buckets, Communicator comm, CancellationToken ct)
    {
        (this.buckets, this.comm, this.ct) = (buckets, comm, ct);
        ready = new bool[buckets.Count];
        reduceStarted = new long[buckets.Count];
        signals = new BucketSignals(model, buckets, OnReady, failure);
    }

    /// <summary>
    /// Whether the next forward and backward start the buckets' all-reduces; off while gradients only accumulate
    /// over micro-batches (PyTorch DDP's no_sync), until the micro-batch whose backward is followed by
    /// <see cref="FinishAsync"/>.
    /// </summary>
    public bool Enabled
    {
        get => signals.Enabled;
        set => signals.Enabled = value;
    }

    /// <summary>When each bucket's all-reduce started in the latest step, as <see cref="Stopwatch"/> timestamps, in bucket order.</summary>
    public IReadOnlyList<long> ReduceStarted => reduceStarted;

    /// <summary>
    /// Once backward has returned: starts the buckets not started yet, waits for every all-reduce and writes the
    /// averages into the gradients. Throws what failed inside backward or in an all-reduce.
    /// </summary>
    public async Task FinishAsync()
    {
        try
        {
            failure.Run(() =>
            {
                while (next < buckets.Count) Start(next++);
            });
            try
            {
                await reducing;
            }
            catch (Exception e)
            {
                failure.Record(e);
            }
            failure.ThrowIfFailed();
            for (int b = 0; b < buckets.Count; b++) buckets[b].Unpack();
        }
        finally
        {
            Array.Clear(ready);
            next = 0;
            reducing = Task.CompletedTask;
            signals.Reset();
        }
    }

    /// <summary>In backward (the engine calls its callbacks one at a time): the bucket's gradients are final.</summary>
    private void OnReady(int bucket)
    {
        ready[bucket] = true;
        while (next < ready.Length && ready[next]) Start(next++);
    }

    /// <summary>Packs the bucket now, on this thread, and queues its all-reduce behind the ones started before.</summary>
    private void Start(int bucket) => reducing = ReduceAfterAsync(reducing, bucket, buckets[bucket].Pack());

    private async Task ReduceAfterAsync(Task previous, int bucket, Tensor packed)
    {
        await previous;
        reduceStarted[bucket] = Stopwatch.GetTimestamp();
        await comm.AllReduceAsync(packed, ReduceOp.Average, ct);
    }

    public void Dispose()
    {
        signals.Dispose();
        // An all-reduce still in flight (backward failed before the step waited) reads the buckets' memory.
        try
        {
            reducing.Wait();
        }
        catch (AggregateException)
        {
            // Its failure was the step's to report.
        }
    }
}
