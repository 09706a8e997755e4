using Dtrain.Graph.Storage;

namespace Dtrain.Tests.Graph;

public class GraphFileTests
{
    [Fact]
    public void A_written_graph_reads_back_equal()
    {
        using var directory = new TempDirectory();
        var graph = TestGraphs.Clustered();
        GraphFile.Write(directory.File("g.dtg"), graph);

        var read = GraphFile.Read(directory.File("g.dtg"));

        Assert.Equal(graph.InOffsets, read.InOffsets);
        Assert.Equal(graph.InSources, read.InSources);
        Assert.Equal(graph.EdgeWeights, read.EdgeWeights);
        Assert.Equal((graph.FeatureDim, graph.ClassCount), (read.FeatureDim, read.ClassCount));
        Assert.Equal(graph.Features, read.Features);
        Assert.Equal(graph.Labels, read.Labels);
        Assert.Equal(graph.Split, read.Split);
    }

    [Fact]
    public void Offsets_past_the_edges_in_the_middle_are_named_not_a_crash()
    {
        // Node 0's offset runs past the 2 edges and node 1's comes back: each offset alone looks plausible.
        var error = Assert.Throws<Dtrain.Contracts.DtrainException>(() => new GraphData([0, 5, 2], [0, 1], null, 0, [], 1, [0, 0], [NodeSplit.Train, NodeSplit.Train]));
        Assert.Equal("invalid graph: offset 5 of node 1 is past the 2 edges", error.Message);
    }
}
