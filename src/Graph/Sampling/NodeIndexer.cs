namespace Dtrain.Graph.Sampling;

/// <summary>
/// Global node ID -> local index within one block, with arrays over all nodes and a generation stamp instead of
/// a hash map: a lookup is one array read, and starting a new block is O(1). Costs 8 bytes per graph node, stamp
/// and index side by side so that a lookup of a random node is one cache miss, not two.
/// </summary>
internal sealed class NodeIndexer(int nodeCount)
{
    private readonly Entry[] entries = new Entry[nodeCount];
    private int generation = 1;
    private int count;

    public void Reset()
    {
        generation++;
        count = 0;
    }

    /// <summary>The node's local index; a node seen for the first time gets the next one and <paramref name="added"/>.</summary>
    public int IndexOf(int node, out bool added)
    {
        ref var entry = ref entries[node];
        added = entry.Stamp != generation;
        if (added) entry = new Entry(generation, count++);
        return entry.Index;
    }

    private record struct Entry(int Stamp, int Index);
}
