using Dtrain.Collectives;
using Dtrain.Collectives.Tensors;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Collectives.DataParallel;

/// <summary>
/// Averages gradients across ranks the way PyTorch DDP does: parameters are grouped, in reverse order, into
/// buckets of at most a set size, and each bucket's gradients are packed into one flat tensor (or, when they are
/// views of one flat buffer, all-reduced where they lie) in one collective (<see cref="GradientBucket"/>). Optionally a bucket travels as bfloat16, halving the bytes on the
/// wire. <see cref="AverageAsync"/> reduces the buckets one after another once backward has finished;
/// <see cref="OverlappedGradientSync"/> starts each during backward instead.
/// </summary>
public sealed class GradientBuckets : IDisposable
{
    private readonly IReadOnlyList<GradientBucket> buckets;

    /// <param name="parameters">The model's named parameters, in the model's order (the names are for error messages).</param>
    public GradientBuckets(IEnumerable<(string Name, Parameter Parameter)> parameters, long bucketBytes, bool compressToBFloat16)
    {
        var all = parameters.ToArray();
        buckets = Assign(all.Select(p => p.Parameter.numel() * sizeof(float)).ToArray(), bucketBytes)
            .Select(indices => new GradientBucket(indices.Select(i => all[i]).ToArray(), compressToBFloat16))
            .ToArray();
    }

    public int Count => buckets.Count;

    internal GradientBucket this[int index] => buckets[index];

    /// <summary>
    /// Which parameters share a bucket: walking from the last parameter to the first, a bucket closes when the
    /// next parameter would take it past <paramref name="capacity"/> bytes; a parameter larger than that gets
    /// a bucket of its own.
    /// </summary>
    public static IReadOnlyList<int[]> Assign(IReadOnlyList<long> parameterBytes, long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var result = new List<int[]>();
        var current = new List<int>();
        long filled = 0;
        for (int i = parameterBytes.Count - 1; i >= 0; i--)
        {
            if (current.Count > 0 && filled + parameterBytes[i] > capacity)
            {
                result.Add([.. current]);
                current.Clear();
                filled = 0;
            }
            current.Add(i);
            filled += parameterBytes[i];
        }
        if (current.Count > 0) result.Add([.. current]);
        return result;
    }

    /// <summary>Averages the gradients once backward has returned, one bucket after another.</summary>
    public async Task AverageAsync(Communicator comm, CancellationToken ct)
    {
        if (comm.Size == 1) return;   // one rank's gradients are their own average: nothing to pack, stage or send
        foreach (var bucket in buckets)
        {
            await comm.AllReduceAsync(bucket.Pack(), ReduceOp.Average, ct);
            bucket.Unpack();
        }
    }

    public void Dispose()
    {
        foreach (var bucket in buckets) bucket.Dispose();
    }
}
