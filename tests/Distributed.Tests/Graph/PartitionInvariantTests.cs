using Dtrain.Contracts;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Storage;

namespace Dtrain.Tests.Graph;

/// <summary>Whatever the method, a partitioning is the same graph, relabelled, split by destination without loss.</summary>
public class PartitionInvariantTests
{
    private static readonly GraphData Graph = TestGraphs.Clustered();

    [Theory]
    [InlineData(PartitionMethod.Metis, 1)]
    [InlineData(PartitionMethod.Metis, 2)]
    [InlineData(PartitionMethod.Metis, 3)]
    [InlineData(PartitionMethod.Metis, 4)]
    [InlineData(PartitionMethod.Random, 1)]
    [InlineData(PartitionMethod.Random, 2)]
    [InlineData(PartitionMethod.Random, 3)]
    [InlineData(PartitionMethod.Random, 4)]
    public void A_partitioning_keeps_every_node_and_edge_exactly_once(PartitionMethod method, int parts)
    {
        var result = GraphPartitioner.Partition(Graph, method, parts, seed: 11);

        AssertRangesCoverTheGraph(result.Book, parts, Graph.NodeCount);
        AssertIsomorphic(Graph, result.Relabelled, result.NewIds);
        AssertSplitByDestination(result);
    }

    [Theory]
    [InlineData(PartitionMethod.Metis)]
    [InlineData(PartitionMethod.Random)]
    public void A_small_graph_splits_into_as_many_partitions_as_nodes(PartitionMethod method)
    {
        // A directed ring of 6 nodes, 3 of them training nodes.
        var (offsets, sources, _) = GraphBuilder.ToCsc(6, [0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]);
        var split = new[] { NodeSplit.Train, NodeSplit.None, NodeSplit.Train, NodeSplit.Test, NodeSplit.Train, NodeSplit.None };
        var ring = new GraphData(offsets, sources, null, 1, [0, 1, 2, 3, 4, 5], 2, [0, 1, 0, 1, 0, 1], split);

        var result = GraphPartitioner.Partition(ring, method, 6, seed: 1);

        AssertRangesCoverTheGraph(result.Book, 6, 6);
        AssertIsomorphic(ring, result.Relabelled, result.NewIds);
        AssertSplitByDestination(result);
    }

    [Fact]
    public void A_partition_may_own_nothing()
    {
        // Nodes go to partitions 0 and 2 only.
        var assignment = Enumerable.Range(0, Graph.NodeCount).Select(v => v % 3 == 0 ? 2 : 0).ToArray();
        var result = PartitionSplitter.Split(Graph, assignment, parts: 3);

        Assert.Equal(0, result.Partitions[1].NodeCount);
        Assert.Equal(0, result.Partitions[1].EdgeCount);
        Assert.Empty(result.Partitions[1].HaloNodes);
        AssertRangesCoverTheGraph(result.Book, 3, Graph.NodeCount);
        AssertSplitByDestination(result);
        Assert.Equal(2, result.Book.OwnerOf(result.Book.FirstNode(2)));
    }

    [Fact]
    public void Relabelling_keeps_the_original_order_within_a_partition()
    {
        var assignment = Enumerable.Range(0, Graph.NodeCount).Select(v => v % 2).ToArray();
        var result = PartitionSplitter.Split(Graph, assignment, parts: 2);
        // Even nodes first, in order, then odd ones.
        Assert.Equal(Enumerable.Range(0, Graph.NodeCount).Select(v => v % 2 * (Graph.NodeCount / 2) + v / 2), result.NewIds);
    }

    [Theory]
    [InlineData(0, "the partition count must be at least 1, got 0")]
    [InlineData(TestGraphs.NodeCount + 1, "cannot split a graph of 2000 nodes into 2001 partitions")]
    public void A_partition_count_outside_one_to_the_node_count_is_rejected(int parts, string expected)
    {
        var error = Assert.Throws<DtrainException>(() => GraphPartitioner.Partition(Graph, PartitionMethod.Metis, parts, seed: 0));
        Assert.StartsWith(expected, error.Message);
    }

    private static void AssertRangesCoverTheGraph(PartitionBook book, int parts, int nodeCount)
    {
        Assert.Equal(parts, book.PartitionCount);
        Assert.Equal(0, book.Boundaries[0]);
        Assert.Equal(nodeCount, book.Boundaries[^1]);
        for (int node = 0; node < nodeCount; node++)
        {
            var owners = Enumerable.Range(0, parts).Where(p => book.Owns(p, node)).ToArray();
            Assert.Equal([book.OwnerOf(node)], owners);
        }
    }

    /// <summary>Edge u -> v of the original is edge map[u] -> map[v] of the relabelled graph, with its weight, and nothing else is.</summary>
    private static void AssertIsomorphic(GraphData original, GraphData relabelled, int[] map)
    {
        Assert.Equal(Enumerable.Range(0, original.NodeCount), map.Order());
        Assert.Equal(original.EdgeCount, relabelled.EdgeCount);
        for (int v = 0; v < original.NodeCount; v++)
        {
            int n = map[v];
            var expected = Edges(original, v).Select(edge => (map[edge.Source], edge.Weight)).Order();
            Assert.Equal(expected, Edges(relabelled, n));
            Assert.Equal(original.FeaturesOf(v), relabelled.FeaturesOf(n));
            Assert.Equal(original.Labels[v], relabelled.Labels[n]);
            Assert.Equal(original.Split[v], relabelled.Split[n]);
        }
    }

    /// <summary>Each partition holds exactly the in-edges, features, labels and split of its nodes, and its halo is the remote in-neighbours.</summary>
    private static void AssertSplitByDestination(PartitionedGraph result)
    {
        var graph = result.Relabelled;
        Assert.Equal(graph.EdgeCount, result.Partitions.Sum(p => p.EdgeCount));
        foreach (var partition in result.Partitions)
        {
            Assert.Equal(result.Book.NodeCountOf(partition.Id), partition.NodeCount);
            Assert.Equal(graph.EdgeWeights is null, partition.EdgeWeights is null);
            var remote = new SortedSet<int>();
            for (int node = partition.FirstNode; node < partition.FirstNode + partition.NodeCount; node++)
            {
                Assert.Equal(graph.InNeighbours(node), partition.InNeighbours(node));
                if (graph.EdgeWeights is not null) Assert.Equal(graph.EdgeWeights.AsSpan(graph.InOffsets[node], graph.InDegree(node)), partition.WeightsOf(node));
                Assert.Equal(graph.FeaturesOf(node), partition.FeaturesOf(node));
                Assert.Equal(graph.Labels[node], partition.Labels[node - partition.FirstNode]);
                Assert.Equal(graph.Split[node], partition.Split[node - partition.FirstNode]);
                foreach (int source in graph.InNeighbours(node))
                {
                    if (result.Book.OwnerOf(source) != partition.Id) remote.Add(source);
                }
            }
            Assert.Equal(remote, partition.HaloNodes);
        }
    }

    private static IEnumerable<(int Source, float Weight)> Edges(GraphData graph, int node)
    {
        var sources = graph.InNeighbours(node).ToArray();
        var weights = graph.EdgeWeights is { } all ? all.AsSpan(graph.InOffsets[node], sources.Length).ToArray() : new float[sources.Length];
        return sources.Zip(weights);
    }
}
