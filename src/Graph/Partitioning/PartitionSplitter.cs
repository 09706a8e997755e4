using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Partitioning;

/// <summary>
/// Turns an assignment of nodes to partitions into partitions that own contiguous ID ranges: nodes are relabelled
/// partition by partition (keeping their original order within one), and each partition takes the in-edges of the
/// nodes it owns, so an edge lives with its destination.
/// </summary>
public static class PartitionSplitter
{
    public static PartitionedGraph Split(GraphData graph, int[] assignment, int parts)
    {
        if (assignment.Length != graph.NodeCount) throw new ArgumentException($"{assignment.Length} assignments for {graph.NodeCount} nodes");
        var book = new PartitionBook(Boundaries(assignment, parts));
        var newIds = NewIds(assignment, book);
        var relabelled = Relabel(graph, newIds);
        var partitions = Enumerable.Range(0, parts).Select(p => Cut(relabelled, book, p)).ToArray();
        return new PartitionedGraph(book, relabelled, newIds, partitions);
    }

    private static int[] Boundaries(int[] assignment, int parts)
    {
        var boundaries = new int[parts + 1];
        foreach (int p in assignment)
        {
            if ((uint)p >= (uint)parts) throw new ArgumentException($"partition {p} is outside [0, {parts})");
            boundaries[p + 1]++;
        }
        for (int p = 0; p < parts; p++) boundaries[p + 1] += boundaries[p];
        return boundaries;
    }

    private static int[] NewIds(int[] assignment, PartitionBook book)
    {
        var next = book.Boundaries[..^1];
        var newIds = new int[assignment.Length];
        for (int v = 0; v < assignment.Length; v++) newIds[v] = next[assignment[v]]++;
        return newIds;
    }

    /// <summary>The same graph in the new IDs, in-neighbour lists sorted again.</summary>
    private static GraphData Relabel(GraphData graph, int[] newIds)
    {
        int nodeCount = graph.NodeCount, dim = graph.FeatureDim;
        var oldIds = new int[nodeCount];
        for (int v = 0; v < nodeCount; v++) oldIds[newIds[v]] = v;

        var offsets = new int[nodeCount + 1];
        var sources = new int[graph.InSources.Length];
        var weights = graph.EdgeWeights is null ? null : new float[sources.Length];
        var features = new float[graph.Features.Length];
        var labels = new int[nodeCount];
        var split = new NodeSplit[nodeCount];
        for (int n = 0; n < nodeCount; n++)
        {
            int v = oldIds[n], start = offsets[n], degree = graph.InDegree(v);
            offsets[n + 1] = start + degree;
            var row = sources.AsSpan(start, degree);
            for (int i = 0; i < degree; i++) row[i] = newIds[graph.InSources[graph.InOffsets[v] + i]];
            if (weights is null) row.Sort();
            else
            {
                graph.EdgeWeights.AsSpan(graph.InOffsets[v], degree).CopyTo(weights.AsSpan(start, degree));
                row.Sort(weights.AsSpan(start, degree));
            }
            graph.FeaturesOf(v).CopyTo(features.AsSpan(n * dim, dim));
            labels[n] = graph.Labels[v];
            split[n] = graph.Split[v];
        }
        return new GraphData(offsets, sources, weights, dim, features, graph.ClassCount, labels, split);
    }

    /// <summary>Partition <paramref name="partition"/>'s slice of the relabelled graph, and its halo.</summary>
    private static GraphPartition Cut(GraphData relabelled, PartitionBook book, int partition)
    {
        int first = book.FirstNode(partition), end = first + book.NodeCountOf(partition), dim = relabelled.FeatureDim;
        int edgeStart = relabelled.InOffsets[first], edgeEnd = relabelled.InOffsets[end];
        var sources = relabelled.InSources[edgeStart..edgeEnd];
        return new GraphPartition
        {
            Id = partition,
            Book = book,
            InOffsets = relabelled.InOffsets[first..(end + 1)].Select(offset => offset - edgeStart).ToArray(),
            InSources = sources,
            EdgeWeights = relabelled.EdgeWeights?[edgeStart..edgeEnd],
            FeatureDim = dim,
            Features = relabelled.Features[(first * dim)..(end * dim)],
            ClassCount = relabelled.ClassCount,
            Labels = relabelled.Labels[first..end],
            Split = relabelled.Split[first..end],
            HaloNodes = sources.Where(u => u < first || u >= end).Distinct().Order().ToArray(),
        };
    }
}
