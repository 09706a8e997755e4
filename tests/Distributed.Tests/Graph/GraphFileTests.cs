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
}
