using Dtrain.Graph.Generators;
using Dtrain.Graph.Storage;

namespace Dtrain.Tests.Graph.Generators;

public class KarateClubTests
{
    private readonly GraphData graph = KarateClub.Generate();

    [Fact]
    public void Has_34_members_and_78_friendships_stored_both_ways()
    {
        Assert.Equal(34, graph.NodeCount);
        Assert.Equal(156, graph.EdgeCount);
        Assert.True(GraphMeasures.IsSymmetric(graph));
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(33, 17)]
    [InlineData(32, 12)]
    [InlineData(2, 10)]
    [InlineData(1, 9)]
    [InlineData(3, 6)]
    [InlineData(31, 6)]
    [InlineData(11, 1)]
    public void Members_have_their_known_degrees(int node, int degree) => Assert.Equal(degree, graph.InDegree(node));

    [Fact]
    public void Factions_are_17_and_17_with_the_leaders_on_opposite_sides()
    {
        Assert.Equal(2, graph.ClassCount);
        Assert.Equal(17, graph.Labels.Count(label => label == 0));
        Assert.Equal(17, graph.Labels.Count(label => label == 1));
        Assert.Equal(0, graph.Labels[0]);
        Assert.Equal(1, graph.Labels[33]);
        // Node 8 sided with Mr. Hi although most of its friends are Officers; node 9 is the other way round.
        Assert.Equal(0, graph.Labels[8]);
        Assert.Equal(1, graph.Labels[9]);
    }

    [Fact]
    public void Features_are_one_hot_identities()
    {
        Assert.Equal(34, graph.FeatureDim);
        for (int v = 0; v < 34; v++)
        {
            var row = graph.FeaturesOf(v).ToArray();
            Assert.Equal(1, row[v]);
            Assert.Equal(1, row.Sum());
        }
    }

    [Fact]
    public void Only_the_two_leaders_are_training_nodes()
    {
        Assert.Equal([0, 33], graph.NodesIn(NodeSplit.Train));
        Assert.Equal(32, graph.NodesIn(NodeSplit.Test).Length);
    }
}
