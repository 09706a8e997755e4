using Dtrain.Optimizers.Shampoo.Blocking;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Shampoo.Distributor;

/// <summary>
/// Blocks of one shape that one rank computes together, as one [count, shape…] stack: its segments (one per
/// parameter) in block order, and where its directions lie in its owner's slot of the all-gathered buffer.
/// </summary>
internal sealed class StackLayout : IDisposable
{
    private StackLayout(long[] shape, BlockSegment[] segments, long offset)
    {
        Shape = shape;
        Segments = segments;
        Offset = offset;
        var rows = new int[segments.Length];
        for (int i = 1; i < segments.Length; i++) rows[i] = rows[i - 1] + segments[i - 1].Count;
        SegmentRows = rows;
    }

    public long[] Shape { get; }

    public IReadOnlyList<BlockSegment> Segments { get; }

    /// <summary>Each segment's first row in the stack.</summary>
    public IReadOnlyList<int> SegmentRows { get; }

    /// <summary>Where the stack's directions start in its owner's slot, in elements.</summary>
    public long Offset { get; }

    public int Count => SegmentRows[^1] + Segments[^1].Count;

    public long Elements => Count * Segments[0].Blocks[0].Elements;

    public IEnumerable<Block> Blocks => Segments.SelectMany(s => s.Blocks);

    /// <summary>
    /// The stacks of one rank's blocks: blocks of equal shape together, stacks ordered by their first block, each
    /// placed after the previous in the rank's slot.
    /// </summary>
    /// <param name="blocks">The rank's blocks, in block order.</param>
    /// <param name="merged">Each parameter's merged shape.</param>
    public static StackLayout[] Of(IEnumerable<Block> blocks, IReadOnlyList<long[]> merged, long maxPreconditionerDim, Device device)
    {
        var stacks = new List<StackLayout>();
        long offset = 0;
        foreach (var shaped in blocks.GroupBy(b => string.Join(',', b.Shape)))
        {
            var segments = shaped.GroupBy(b => b.Parameter)
                .Select(p => new BlockSegment(p.ToArray(), merged[p.Key], maxPreconditionerDim, device))
                .ToArray();
            var stack = new StackLayout(shaped.First().Shape, segments, offset);
            offset += stack.Elements;
            stacks.Add(stack);
        }
        return [.. stacks];
    }

    public void Dispose()
    {
        foreach (var segment in Segments) segment.Dispose();
    }
}
