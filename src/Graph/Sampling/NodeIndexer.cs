using System.Runtime.CompilerServices;

namespace Dtrain.Graph.Sampling;

/// <summary>
/// Global node ID -> local index within one block, with arrays over all nodes and a generation stamp instead of
/// a hash map: a lookup is one array read, and starting a new block is O(1). Costs 8 bytes per graph node, stamp
/// and index side by side so that a lookup of a random node is one cache miss, not two. Also keeps the way back,
/// <see cref="Nodes"/>, in a buffer reused from block to block.
/// </summary>
internal sealed class NodeIndexer
{
    /// <summary>How many nodes ahead the bulk methods prefetch: enough misses in flight to cover a memory access.</summary>
    private const int Lookahead = 16;

    private readonly Entry[] entries;
    private int[] nodes = [];
    private int generation = 1;
    private int count;

    public NodeIndexer(int nodeCount)
    {
        entries = new Entry[nodeCount];
        HugePages.Request(entries);
    }

    /// <summary>The nodes indexed since the last <see cref="Reset"/>, by local index.</summary>
    public ReadOnlySpan<int> Nodes => nodes.AsSpan(0, count);

    public void Reset()
    {
        generation++;
        count = 0;
    }

    /// <summary>The node's local index; a node seen for the first time gets the next one and <paramref name="added"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int IndexOf(int node, out bool added)
    {
        ref var entry = ref entries[node];
        added = entry.Stamp != generation;
        if (added) entry = new Entry(generation, Append(node));
        return entry.Index;
    }

    /// <summary>Gives nodes known to be distinct and not yet indexed the next indices, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first batch: no slow first tier
    public void AddDistinct(ReadOnlySpan<int> distinct)
    {
        for (int i = 0; i < distinct.Length; i++)
        {
            if (i + Lookahead < distinct.Length) CachePrefetch.Read(in entries[distinct[i + Lookahead]]);
            entries[distinct[i]] = new Entry(generation, Append(distinct[i]));
        }
    }

    /// <summary>
    /// <see cref="IndexOf"/> of every node in order, into <paramref name="indices"/>, which may be the nodes' own
    /// span: each node is read before its index is written. Without branches, as whether a node is new is a coin toss
    /// the CPU cannot predict.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void IndexAll(ReadOnlySpan<int> all, Span<int> indices)
    {
        if (nodes.Length < count + all.Length) nodes = Grown(nodes, count + all.Length);
        for (int i = 0; i < all.Length; i++)
        {
            if (i + Lookahead < all.Length) CachePrefetch.Read(in entries[all[i + Lookahead]]);
            int node = all[i];
            ref var entry = ref entries[node];
            bool added = entry.Stamp != generation;
            int index = added ? count : entry.Index;
            entry = new Entry(generation, index);
            nodes[count] = node; // kept only when added
            count += added ? 1 : 0;
            indices[i] = index;
        }
    }

    private int Append(int node)
    {
        if (count == nodes.Length) nodes = Grown(nodes, count + 1);
        nodes[count] = node;
        return count++;
    }

    /// <summary>A larger buffer that keeps the nodes indexed so far.</summary>
    private int[] Grown(int[] old, int length)
    {
        var grown = ReusedArray.AtLeast(old, Math.Max(length, 2 * old.Length));
        old.AsSpan(0, count).CopyTo(grown);
        return grown;
    }

    private record struct Entry(int Stamp, int Index);
}
