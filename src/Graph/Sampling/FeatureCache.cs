namespace Dtrain.Graph.Sampling;

/// <summary>
/// A bounded least-recently-used cache of remote nodes' feature rows. Sampling keeps reaching the same hub nodes
/// (power-law degrees), so a small cache saves many remote fetches, the remote-feature cache DistDGL lacks.
/// Rows live in one preallocated slab; slots form a doubly linked list in recency order. Not thread-safe: the
/// mini-batch sampler uses it from one flow at a time.
/// </summary>
public sealed class FeatureCache
{
    private readonly int featureDim;
    private readonly float[] rows;
    private readonly int[] nodeOfSlot, previous, next;
    private readonly Dictionary<int, int> slotOfNode;
    private int used, head = -1, tail = -1; // head: most recently used

    public FeatureCache(int capacity, int featureDim)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        (Capacity, this.featureDim) = (capacity, featureDim);
        rows = new float[(long)capacity * featureDim];
        nodeOfSlot = new int[capacity];
        previous = new int[capacity];
        next = new int[capacity];
        slotOfNode = new Dictionary<int, int>(capacity);
    }

    public int Capacity { get; }

    public int Count => slotOfNode.Count;

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    /// <summary>Copies the node's row into <paramref name="destination"/> when cached.</summary>
    public bool TryGet(int node, Span<float> destination)
    {
        if (!slotOfNode.TryGetValue(node, out int slot))
        {
            Misses++;
            return false;
        }
        Hits++;
        MoveToFront(slot);
        Row(slot).CopyTo(destination);
        return true;
    }

    /// <summary>Caches the node's row, evicting the least recently used one when full.</summary>
    public void Add(int node, ReadOnlySpan<float> row)
    {
        if (slotOfNode.TryGetValue(node, out int slot))
        {
            MoveToFront(slot);
        }
        else
        {
            if (used < Capacity)
            {
                slot = used++;
            }
            else
            {
                slot = tail;
                Unlink(slot);
                slotOfNode.Remove(nodeOfSlot[slot]);
            }
            nodeOfSlot[slot] = node;
            slotOfNode[node] = slot;
            LinkAtFront(slot);
        }
        row.CopyTo(Row(slot));
    }

    private Span<float> Row(int slot) => rows.AsSpan(slot * featureDim, featureDim);

    private void MoveToFront(int slot)
    {
        if (slot == head) return;
        Unlink(slot);
        LinkAtFront(slot);
    }

    private void Unlink(int slot)
    {
        if (previous[slot] >= 0) next[previous[slot]] = next[slot];
        else head = next[slot];
        if (next[slot] >= 0) previous[next[slot]] = previous[slot];
        else tail = previous[slot];
    }

    private void LinkAtFront(int slot)
    {
        previous[slot] = -1;
        next[slot] = head;
        if (head >= 0) previous[head] = slot;
        head = slot;
        if (tail < 0) tail = slot;
    }
}
