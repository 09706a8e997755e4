using Dtrain.Contracts;
using Dtrain.Graph.Generators;
using Dtrain.Graph.Storage;

namespace Dtrain.Tests.Graph.Generators;

public sealed class GeneratedGraphFileTests : IDisposable
{
    private readonly string path = Path.Combine(Path.GetTempPath(), $"dtrain-generated-{Guid.NewGuid():N}.graph");

    public void Dispose() => File.Delete(path);

    [Fact]
    public void A_generated_graph_reads_back_identical()
    {
        var graph = StochasticBlockModel.Generate(new StochasticBlockModelOptions { Nodes = 1000, Seed = 5 });
        GraphFile.Write(path, graph);
        GraphAssert.Identical(graph, GraphFile.Read(path));
    }

    [Fact]
    public void A_flipped_byte_is_reported_as_corruption()
    {
        GraphFile.Write(path, RMat.Generate(new RMatOptions { Scale = 8, Seed = 2 }));
        Corrupt.FlipBits(path, 0x10);

        var error = Assert.Throws<DtrainException>(() => GraphFile.Read(path));
        Assert.Contains("corrupted", error.Message);
    }
}
