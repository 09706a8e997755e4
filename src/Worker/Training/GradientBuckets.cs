using Dtrain.Collectives;
using Dtrain.Collectives.Tensors;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Worker.Training;

/// <summary>
/// Averages gradients across ranks the way PyTorch DDP does: parameters are grouped, in reverse order, into
/// buckets of at most a set size, and each bucket's gradients are packed into one flat tensor (kept between
/// steps, on the parameters' device) and all-reduced in one collective. Optionally a bucket travels as
/// bfloat16, halving the bytes on the wire. TorchSharp has no per-parameter gradient hooks, so the buckets
/// are reduced one after another once backward has finished.
/// </summary>
public sealed class GradientBuckets : IDisposable
{
    private readonly IReadOnlyList<Bucket> buckets;

    public GradientBuckets(IEnumerable<Parameter> parameters, long bucketBytes, bool compressToBFloat16)
    {
        var all = parameters.ToArray();
        buckets = Assign(all.Select(p => p.numel() * sizeof(float)).ToArray(), bucketBytes)
            .Select(indices => new Bucket(indices.Select(i => all[i]).ToArray(), compressToBFloat16))
            .ToArray();
    }

    public int Count => buckets.Count;

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

    private sealed class Bucket : IDisposable
    {
        private readonly Parameter[] parameters;
        private readonly Tensor flat;
        private readonly Tensor? compressed;

        public Bucket(Parameter[] parameters, bool compressToBFloat16)
        {
            this.parameters = parameters;
            long total = parameters.Sum(p => p.numel());
            var device = parameters[0].device;
            flat = zeros(total, ScalarType.Float32, device).DetachFromDisposeScope();
            compressed = compressToBFloat16 ? zeros(total, ScalarType.BFloat16, device).DetachFromDisposeScope() : null;
        }

        /// <summary>The gradients, flattened into the tensor that goes on the wire.</summary>
        public Tensor Pack()
        {
            using var scope = NewDisposeScope();
            long offset = 0;
            foreach (var p in parameters)
            {
                flat.narrow(0, offset, p.numel()).copy_(p.grad!.flatten());
                offset += p.numel();
            }
            compressed?.copy_(flat);
            return compressed ?? flat;
        }

        /// <summary>Writes the reduced values back into the gradients.</summary>
        public void Unpack()
        {
            using var scope = NewDisposeScope();
            if (compressed is not null) flat.copy_(compressed);
            long offset = 0;
            foreach (var p in parameters)
            {
                p.grad!.copy_(flat.narrow(0, offset, p.numel()).view_as(p));
                offset += p.numel();
            }
        }

        public void Dispose()
        {
            flat.Dispose();
            compressed?.Dispose();
        }
    }
}
