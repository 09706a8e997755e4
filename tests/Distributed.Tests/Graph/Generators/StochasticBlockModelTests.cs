using Dtrain.Graph.Generators;
using Dtrain.Graph.Storage;

namespace Dtrain.Tests.Graph.Generators;

public class StochasticBlockModelTests
{
    private static readonly StochasticBlockModelOptions Defaults = new() { Seed = 7 };
    private static readonly Lazy<GraphData> DefaultGraph = new(() => StochasticBlockModel.Generate(Defaults));

    [Fact]
    public void The_same_seed_gives_the_same_graph_and_another_seed_a_different_one()
    {
        var small = new StochasticBlockModelOptions { Nodes = 2000, Seed = 3 };
        var first = StochasticBlockModel.Generate(small);
        var again = StochasticBlockModel.Generate(small);
        var other = StochasticBlockModel.Generate(small with { Seed = 4 });

        GraphAssert.Identical(first, again);
        Assert.NotEqual(first.InSources, other.InSources);
        Assert.NotEqual(first.Features, other.Features);
        Assert.NotEqual(first.Split, other.Split);
    }

    [Theory]
    [InlineData(0.85)]
    [InlineData(0.5)]
    [InlineData(0.2)]
    public void The_measured_homophily_is_the_requested_one(double homophily)
    {
        var graph = StochasticBlockModel.Generate(new StochasticBlockModelOptions { Nodes = 4000, Homophily = homophily, Seed = 1 });
        Assert.InRange(GraphMeasures.Homophily(graph), homophily - 0.03, homophily + 0.03);
    }

    [Fact]
    public void Is_undirected_with_the_requested_mean_degree()
    {
        var graph = DefaultGraph.Value;
        Assert.True(GraphMeasures.IsSymmetric(graph));
        Assert.InRange((double)graph.EdgeCount / graph.NodeCount, 19.0, 20.0);
        Assert.All(Enumerable.Range(0, graph.NodeCount), v => Assert.True(graph.InDegree(v) > 0));
    }

    [Fact]
    public void Classes_are_balanced_and_the_split_has_the_requested_fractions()
    {
        var graph = DefaultGraph.Value;
        Assert.All(Enumerable.Range(0, 8), c => Assert.Equal(1250, graph.Labels.Count(label => label == c)));
        Assert.Equal(6000, graph.NodesIn(NodeSplit.Train).Length);
        Assert.Equal(2000, graph.NodesIn(NodeSplit.Validation).Length);
        Assert.Equal(2000, graph.NodesIn(NodeSplit.Test).Length);
        // Every class is in the training set in about its share.
        var trainLabels = graph.NodesIn(NodeSplit.Train).Select(v => graph.Labels[v]).ToArray();
        Assert.All(Enumerable.Range(0, 8), c => Assert.InRange(trainLabels.Count(label => label == c), 650, 850));
    }

    [Fact]
    public void Features_alone_are_weakly_informative_and_neighbour_means_make_the_class_clear()
    {
        var graph = DefaultGraph.Value;
        double alone = GraphMeasures.NearestCentroidAccuracy(graph, graph.Features);
        double aggregated = GraphMeasures.NearestCentroidAccuracy(graph, GraphMeasures.MeanOverInNeighbours(graph));
        Assert.InRange(alone, 0.35, 0.75);
        Assert.True(aggregated > 0.9, $"nearest centroid on neighbour means: {aggregated:P1} (on features alone: {alone:P1})");
    }
}
