using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace Dtrain.Collectives.Tensors;

/// <summary>
/// Host tensors that collectives stage other tensors through, kept for the next call of the same type and size:
/// gradient buckets come back every step, and allocating (and, for CUDA, pinning) a fresh buffer each time costs
/// more than the copy itself. Pinned buffers serve CUDA tensors (the device copies by DMA); pageable ones serve
/// non-contiguous CPU tensors.
/// </summary>
internal static class StagingBuffers
{
    /// <summary>Buffers kept per (type, size, pinned); more are freed on return, so the cache stays bounded.</summary>
    private const int KeptPerKind = 4;

    private static readonly ConcurrentDictionary<(ScalarType Type, long Elements, bool Pinned), ConcurrentQueue<Tensor>> Kept = new();

    /// <summary>A flat CPU tensor of <paramref name="elements"/> elements; its contents are undefined.</summary>
    public static Tensor Rent(ScalarType type, long elements, bool pinned)
    {
        if (Kept.TryGetValue((type, elements, pinned), out var queue) && queue.TryDequeue(out var kept)) return kept;
        var buffer = empty(elements, type, CPU);
        if (!pinned) return buffer.DetachFromDisposeScope();
        using (buffer)
        {
            return buffer.pin_memory().DetachFromDisposeScope();
        }
    }

    public static void Return(Tensor buffer)
    {
        var queue = Kept.GetOrAdd((buffer.dtype, buffer.numel(), buffer.is_pinned()), _ => new ConcurrentQueue<Tensor>());
        if (queue.Count < KeptPerKind) queue.Enqueue(buffer);
        else buffer.Dispose();
    }
}
