using static TorchSharp.torch;

namespace Dtrain.Collectives.DataParallel;

/// <summary>
/// Where a bucket's gradients lie in its flat tensor: either a span of one buffer that the gradients themselves fill
/// back to back (a FlatParameters' flat gradient, in whatever order its parameters are laid out), or a tensor of the
/// bucket's own that they are copied into in bucket order.
/// </summary>
internal static class GradientSpan
{
    /// <summary>
    /// The span of one float32 buffer that <paramref name="gradients"/> fill back to back, as a flat view, and where
    /// each gradient starts in it; null when some gradient is missing or lies elsewhere.
    /// </summary>
    public static (Tensor Span, long[] Positions)? Of(IReadOnlyList<Tensor?> gradients, long total)
    {
        if (gradients.Any(g => g is null || g.dtype != ScalarType.Float32 || !g.is_contiguous())) return null;
        var storage = StorageAddress(gradients[0]!);
        if (gradients.Any(g => StorageAddress(g!) != storage)) return null;
        var offsets = gradients.Select(g => g!.storage_offset()).ToArray();
        var byOffset = Enumerable.Range(0, gradients.Count).OrderBy(i => offsets[i]).ToArray();
        long start = offsets[byOffset[0]], next = start;
        foreach (int i in byOffset)
        {
            if (offsets[i] != next) return null;
            next += gradients[i]!.numel();
        }
        var span = gradients[byOffset[0]]!.as_strided([total], [1], start).DetachFromDisposeScope();
        return (span, offsets.Select(offset => offset - start).ToArray());
    }

    /// <summary>Positions of tensors of <paramref name="counts"/> elements laid one after another from 0.</summary>
    public static long[] BackToBack(IEnumerable<long> counts)
    {
        long next = 0;
        return counts.Select(count => (next += count) - count).ToArray();
    }

    /// <summary>Whether <paramref name="gradient"/> is the elements of <paramref name="flat"/> from <paramref name="position"/> on.</summary>
    public static bool IsAt(Tensor gradient, Tensor flat, long position) =>
        gradient.dtype == flat.dtype && gradient.is_contiguous()
        && gradient.storage_offset() == flat.storage_offset() + position
        && StorageAddress(gradient) == StorageAddress(flat);

    private static IntPtr StorageAddress(Tensor float32) => float32.storage<float>().data_ptr();
}
