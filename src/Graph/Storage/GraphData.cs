using Dtrain.Contracts;

namespace Dtrain.Graph.Storage;

/// <summary>
/// A whole graph in memory: in-neighbour lists in CSC form (the in-neighbours of node v are
/// <c>InSources[InOffsets[v] .. InOffsets[v + 1]]</c>, sorted ascending, no duplicates), optional edge weights
/// aligned with them, node features (row-major, one row of <see cref="FeatureDim"/> floats per node), labels and
/// the train/validation/test split. An undirected graph stores each edge in both directions.
/// Node IDs are int: METIS's idx_t is 32-bit, and the graphs trained here stay far below 2^31 nodes and edges.
/// </summary>
public sealed class GraphData
{
    public GraphData(int[] inOffsets, int[] inSources, float[]? edgeWeights, int featureDim, float[] features,
        int classCount, int[] labels, NodeSplit[] split)
    {
        (InOffsets, InSources, EdgeWeights, FeatureDim, Features, ClassCount, Labels, Split) =
            (inOffsets, inSources, edgeWeights, featureDim, features, classCount, labels, split);
        var problem = FindProblem();
        if (problem is not null) throw new DtrainException($"invalid graph: {problem}");
    }

    public int NodeCount => InOffsets.Length - 1;

    public long EdgeCount => InSources.Length;

    public int[] InOffsets { get; }

    public int[] InSources { get; }

    public float[]? EdgeWeights { get; }

    public int FeatureDim { get; }

    public float[] Features { get; }

    public int ClassCount { get; }

    public int[] Labels { get; }

    public NodeSplit[] Split { get; }

    public ReadOnlySpan<int> InNeighbours(int node) => InSources.AsSpan(InOffsets[node], InOffsets[node + 1] - InOffsets[node]);

    public int InDegree(int node) => InOffsets[node + 1] - InOffsets[node];

    public ReadOnlySpan<float> FeaturesOf(int node) => Features.AsSpan(node * FeatureDim, FeatureDim);

    public int[] NodesIn(NodeSplit split) => Enumerable.Range(0, NodeCount).Where(v => Split[v] == split).ToArray();

    private string? FindProblem()
    {
        if (InOffsets.Length < 1 || InOffsets[0] != 0) return "in-neighbour offsets must start at 0";
        if (InOffsets[^1] != InSources.Length) return $"the last offset {InOffsets[^1]} is not the edge count {InSources.Length}";
        if (EdgeWeights is not null && EdgeWeights.Length != InSources.Length) return $"{EdgeWeights.Length} edge weights for {InSources.Length} edges";
        if (FeatureDim < 0 || Features.LongLength != (long)NodeCount * FeatureDim) return $"{Features.Length} feature values for {NodeCount} nodes of dimension {FeatureDim}";
        if (Labels.Length != NodeCount || Split.Length != NodeCount) return $"{Labels.Length} labels and {Split.Length} split entries for {NodeCount} nodes";
        for (int v = 0; v < NodeCount; v++)
        {
            if (InOffsets[v + 1] < InOffsets[v]) return $"offsets decrease at node {v}";
            if (InOffsets[v + 1] > InSources.Length) return $"offset {InOffsets[v + 1]} of node {v + 1} is past the {InSources.Length} edges";
            var neighbours = InNeighbours(v);
            for (int i = 0; i < neighbours.Length; i++)
            {
                if ((uint)neighbours[i] >= (uint)NodeCount) return $"node {v} has in-neighbour {neighbours[i]}, outside [0, {NodeCount})";
                if (i > 0 && neighbours[i] <= neighbours[i - 1]) return $"the in-neighbours of node {v} are not sorted and unique";
            }
            if (Labels[v] < 0 || Labels[v] >= Math.Max(ClassCount, 1)) return $"node {v} has label {Labels[v]}, outside [0, {ClassCount})";
            if (!Enum.IsDefined(Split[v])) return $"node {v} has split value {(byte)Split[v]}";
        }
        return null;
    }
}
