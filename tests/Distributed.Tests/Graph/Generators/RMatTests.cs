using Dtrain.Graph.Generators;
using Dtrain.Graph.Storage;

namespace Dtrain.Tests.Graph.Generators;

public class RMatTests
{
    private static readonly RMatOptions Moderate = new() { Scale = 15, Seed = 11 };

    [Fact]
    public void The_graph_does_not_depend_on_the_thread_count()
    {
        var options = Moderate with { Scale = 13 };
        var oneThread = RMat.Generate(options, new ParallelOptions { MaxDegreeOfParallelism = 1 });
        var allThreads = RMat.Generate(options);

        GraphAssert.Identical(oneThread, allThreads);
        Assert.NotEqual(oneThread.InSources, RMat.Generate(options with { Seed = 12 }).InSources);
    }

    [Fact]
    public void Keeps_most_edges_after_dropping_duplicates_and_has_a_heavy_tail()
    {
        var graph = RMat.Generate(Moderate);
        Assert.Equal(1 << 15, graph.NodeCount);
        Assert.InRange(graph.EdgeCount, (long)(0.8 * 16 * (1 << 15)), 16 * (1 << 15));

        double mean = (double)graph.EdgeCount / graph.NodeCount;
        int max = Enumerable.Range(0, graph.NodeCount).Max(graph.InDegree);
        Assert.True(max > 20 * mean, $"max in-degree {max}, mean {mean:F1}");
    }

    [Fact]
    public void Relabelling_spreads_the_hubs_over_the_id_range()
    {
        var graph = RMat.Generate(Moderate);
        // Without relabelling the 1% of nodes with the highest in-degree would nearly all be in the first quarter of IDs.
        var hubs = Enumerable.Range(0, graph.NodeCount).OrderByDescending(graph.InDegree).Take(graph.NodeCount / 100).ToArray();
        double inFirstQuarter = hubs.Count(v => v < graph.NodeCount / 4) / (double)hubs.Length;
        Assert.InRange(inFirstQuarter, 0.15, 0.35);
    }

    [Fact]
    public void Undirected_stores_every_edge_both_ways()
    {
        var graph = RMat.Generate(Moderate with { Scale = 10, Undirected = true });
        Assert.True(GraphMeasures.IsSymmetric(graph));
    }

    [Fact]
    public void Level_noise_changes_the_graph_but_keeps_its_size()
    {
        var plain = RMat.Generate(Moderate);
        var noisy = RMat.Generate(Moderate with { LevelNoise = 0.1 });
        Assert.NotEqual(plain.InSources, noisy.InSources);
        Assert.InRange(noisy.EdgeCount, (long)(0.8 * 16 * (1 << 15)), 16 * (1 << 15));
    }

    [Fact]
    public void Labels_and_split_have_the_requested_shares()
    {
        var graph = RMat.Generate(Moderate with { Scale = 12, Classes = 4 });
        Assert.All(Enumerable.Range(0, 4), c => Assert.InRange(graph.Labels.Count(label => label == c), 900, 1150));
        Assert.Equal(409, graph.NodesIn(NodeSplit.Train).Length);
        Assert.Equal(409, graph.NodesIn(NodeSplit.Validation).Length);
        Assert.Equal(3276, graph.NodesIn(NodeSplit.Test).Length);
    }
}
