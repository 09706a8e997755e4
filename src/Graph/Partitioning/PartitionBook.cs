using Dtrain.Contracts;

namespace Dtrain.Graph.Partitioning;

/// <summary>
/// Which partition owns which node, as DistDGL's range partition book keeps it: node IDs are relabelled so that
/// partition p owns the contiguous range [Boundaries[p], Boundaries[p + 1]), and an owner lookup is a binary search
/// over P + 1 numbers instead of a table of N.
/// </summary>
public sealed class PartitionBook
{
    public PartitionBook(int[] boundaries)
    {
        if (boundaries.Length < 2 || boundaries[0] != 0) throw new DtrainException("a partition book starts at node 0 and has at least one partition");
        for (int p = 0; p + 1 < boundaries.Length; p++)
        {
            if (boundaries[p + 1] < boundaries[p]) throw new DtrainException($"partition book boundaries decrease at partition {p}");
        }
        Boundaries = boundaries;
    }

    public int[] Boundaries { get; }

    public int PartitionCount => Boundaries.Length - 1;

    public int NodeCount => Boundaries[^1];

    public int FirstNode(int partition) => Boundaries[partition];

    public int NodeCountOf(int partition) => Boundaries[partition + 1] - Boundaries[partition];

    /// <summary>The partition that owns <paramref name="node"/>; an error naming the node when it is not in the graph.</summary>
    public int OwnerOf(int node)
    {
        if ((uint)node >= (uint)NodeCount) throw new DtrainException($"unknown node ID {node}: the graph has nodes 0 to {NodeCount - 1}");
        // The last boundary <= node, skipping empty partitions.
        int index = Array.BinarySearch(Boundaries, node);
        if (index < 0) return ~index - 1;
        while (index + 1 < Boundaries.Length - 1 && Boundaries[index + 1] == node) index++;
        return index;
    }

    public bool Owns(int partition, int node) => node >= Boundaries[partition] && node < Boundaries[partition + 1];
}
