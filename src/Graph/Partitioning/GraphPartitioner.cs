using Dtrain.Contracts;
using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Partitioning;

/// <summary>Partitions a graph: checks the partition count, assigns nodes with the chosen method, splits.</summary>
public static class GraphPartitioner
{
    public static PartitionedGraph Partition(GraphData graph, PartitionMethod method, int parts, long seed)
    {
        if (parts < 1) throw new DtrainException($"the partition count must be at least 1, got {parts}");
        if (parts > graph.NodeCount) throw new DtrainException($"cannot split a graph of {graph.NodeCount} nodes into {parts} partitions: at most one partition per node");
        var assignment = method switch
        {
            PartitionMethod.Metis => MetisPartitioner.Assign(graph, parts, seed),
            PartitionMethod.Random => RandomPartitioner.Assign(graph.NodeCount, parts, seed),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown partition method"),
        };
        return PartitionSplitter.Split(graph, assignment, parts);
    }
}
