using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Storage;

namespace Dtrain.Training.GraphTasks;

/// <summary>
/// The partitions a rank holds in its epoch, in ID order: one, or several when the graph has more partitions than
/// the epoch has workers. Their owned nodes are the rank's: it trains on their training examples and is tested on
/// their test ones.
/// </summary>
public sealed class HeldPartitions
{
    public HeldPartitions(IEnumerable<GraphPartition> partitions)
    {
        All = [.. partitions.OrderBy(partition => partition.Id)];
        if (All.Count == 0) throw new ArgumentException("a rank holds at least one partition");
    }

    public IReadOnlyList<GraphPartition> All { get; }

    /// <summary>The lowest-numbered held partition, which names the rank's random streams.</summary>
    public GraphPartition First => All[0];

    public PartitionBook Book => First.Book;

    public int FeatureDim => First.FeatureDim;

    public int ClassCount => First.ClassCount;

    /// <summary>Global IDs of the held nodes in <paramref name="split"/>, partition by partition.</summary>
    public int[] NodesIn(NodeSplit split) => [.. All.SelectMany(partition => partition.NodesIn(split))];

    private GraphPartition OwnerOf(int node) => All.First(partition => partition.Owns(node));

    public int LabelOf(int node)
    {
        var owner = OwnerOf(node);
        return owner.Labels[node - owner.FirstNode];
    }
}
