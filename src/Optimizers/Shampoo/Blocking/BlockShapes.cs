namespace Dtrain.Optimizers.Shampoo.Blocking;

/// <summary>
/// How a parameter is cut into preconditioner blocks (reference section 1): size-1 dims are dropped, adjacent
/// dims merged from the last one while their product stays within the limit, then every dim split into
/// chunks of at most the limit. Each block gets one factor matrix per dim.
/// </summary>
public static class BlockShapes
{
    /// <summary>The shape after dropping size-1 dims and merging, e.g. [32, 3, 64, 64] at 8192 -> [96, 4096].</summary>
    public static long[] Merge(IReadOnlyList<long> shape, long maxPreconditionerDim)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPreconditionerDim, 1);
        var dims = shape.Where(d => d != 1).ToList();
        if (dims.Count == 0) return [1];
        var merged = new List<long> { dims[^1] };
        for (int i = dims.Count - 2; i >= 0; i--)
        {
            if (merged[0] * dims[i] <= maxPreconditionerDim) merged[0] *= dims[i];
            else merged.Insert(0, dims[i]);
        }
        return [.. merged];
    }

    /// <summary>
    /// The blocks of a merged shape, each as (offset, length) per dim, in row-major order of the block grid:
    /// every dim is cut into chunks of <paramref name="maxPreconditionerDim"/> and a last, shorter one.
    /// </summary>
    public static IReadOnlyList<(long Start, long Length)[]> Split(IReadOnlyList<long> mergedShape, long maxPreconditionerDim)
    {
        IEnumerable<(long, long)[]> blocks = [[]];
        foreach (long size in mergedShape)
        {
            var chunks = Enumerable.Range(0, (int)((size + maxPreconditionerDim - 1) / maxPreconditionerDim))
                .Select(c => ((long)c * maxPreconditionerDim, Math.Min(maxPreconditionerDim, size - (long)c * maxPreconditionerDim)))
                .ToArray();
            blocks = blocks.SelectMany(prefix => chunks.Select(chunk => (Array.Empty<(long, long)>()).Concat(prefix).Append(chunk).ToArray()));
        }
        return blocks.ToArray();
    }
}
