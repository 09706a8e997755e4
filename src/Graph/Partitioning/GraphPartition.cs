using System.Runtime.CompilerServices;
using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Partitioning;

/// <summary>
/// One partition of a relabelled graph, what one worker holds and serves: the nodes it owns (a contiguous range of
/// the <see cref="PartitionBook"/>), every edge whose destination it owns (in-neighbour lists in CSC form, with
/// global node IDs, so sampling the in-neighbours of owned nodes never leaves the partition), the features,
/// labels and split of its owned nodes, and its 1-hop halo: the in-neighbours owned elsewhere, structure only.
/// </summary>
public sealed class GraphPartition
{
    public required int Id { get; init; }

    public required PartitionBook Book { get; init; }

    /// <summary>Offsets over the owned nodes in order: local node i is global node FirstNode + i.</summary>
    public required int[] InOffsets { get; init; }

    /// <summary>In-neighbours, global IDs, sorted per node.</summary>
    public required int[] InSources { get; init; }

    public float[]? EdgeWeights { get; init; }

    public required int FeatureDim { get; init; }

    /// <summary>Features of the owned nodes, row-major.</summary>
    public required float[] Features { get; init; }

    public required int ClassCount { get; init; }

    public required int[] Labels { get; init; }

    public required NodeSplit[] Split { get; init; }

    /// <summary>Sorted global IDs of the in-neighbours of owned nodes that another partition owns.</summary>
    public required int[] HaloNodes { get; init; }

    public int FirstNode => Book.FirstNode(Id);

    public int NodeCount => InOffsets.Length - 1;

    public long EdgeCount => InSources.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] // called per node in sampling's hot loops
    public bool Owns(int node) => Book.Owns(Id, node);

    /// <summary>In-edges whose source another partition owns: the edges the partitioning cut.</summary>
    public long CountRemoteEdges() => InSources.LongCount(source => !Owns(source));

    /// <summary>The in-neighbours (global IDs) of owned node <paramref name="node"/> (a global ID).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<int> InNeighbours(int node)
    {
        int local = node - FirstNode;
        return InSources.AsSpan(InOffsets[local], InOffsets[local + 1] - InOffsets[local]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<float> WeightsOf(int node)
    {
        int local = node - FirstNode;
        return EdgeWeights.AsSpan(InOffsets[local], InOffsets[local + 1] - InOffsets[local]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<float> FeaturesOf(int node) => Features.AsSpan((node - FirstNode) * FeatureDim, FeatureDim);

    /// <summary>Global IDs of the owned nodes in <paramref name="split"/>.</summary>
    public int[] NodesIn(NodeSplit split)
    {
        var nodes = new List<int>();
        for (int i = 0; i < NodeCount; i++)
        {
            if (Split[i] == split) nodes.Add(FirstNode + i);
        }
        return [.. nodes];
    }
}
