using Dtrain.Contracts;
using Dtrain.Graph.Generators;

namespace Dtrain.Tests.Graph.Generators;

public class GraphGeneratorsTests
{
    private static Dictionary<string, string> Options(params (string Name, string Value)[] options) =>
        options.ToDictionary(option => option.Name, option => option.Value);

    [Fact]
    public void Options_by_name_reach_the_generator()
    {
        var graph = GraphGenerators.Generate("sbm", Options(("nodes", "500"), ("communities", "5"), ("feature-dim", "4"), ("seed", "9")));
        Assert.Equal(500, graph.NodeCount);
        Assert.Equal(5, graph.ClassCount);
        Assert.Equal(4, graph.FeatureDim);
        var expected = StochasticBlockModel.Generate(new StochasticBlockModelOptions { Nodes = 500, Communities = 5, FeatureDim = 4, Seed = 9 });
        Assert.Equal(expected.InSources, graph.InSources);

        var rmat = GraphGenerators.Generate("rmat", Options(("scale", "9"), ("edges", "3000"), ("undirected", "true")));
        Assert.Equal(512, rmat.NodeCount);
        Assert.Equal(34, GraphGenerators.Generate("karate", Options()).NodeCount);
    }

    [Theory]
    [InlineData("sbm", "nodes", "0", "sbm option nodes = 0 must be positive")]
    [InlineData("sbm", "nodes", "ten", "sbm option nodes = 'ten' is not an integer")]
    [InlineData("sbm", "homophily", "1.5", "sbm option homophily = 1.5 is outside [0, 1]")]
    [InlineData("sbm", "communities", "1", "sbm option communities = 1 must be in [2, nodes / 2 = 5000]")]
    [InlineData("sbm", "train", "0.9", "sbm option train + val + test = 1.3 exceeds 1")]
    [InlineData("sbm", "test", "-0.1", "sbm option test = -0.1 is outside [0, 1]")]
    [InlineData("rmat", "scale", "31", "rmat option scale = 31 is outside [1, 30]")]
    [InlineData("rmat", "a", "0.6", "rmat option a + b + c + d = 1.03 is not 1")]
    [InlineData("rmat", "level-noise", "0.5", "rmat option level-noise = 0.5 is outside [0, min(b, c, (a + d) / 2) = 0.19]")]
    [InlineData("rmat", "undirected", "yes", "rmat option undirected = 'yes' is not true or false")]
    [InlineData("sbm", "homophilly", "0.8", "sbm has no option homophilly (it takes communities, degree, feature-dim, homophily, nodes, noise, seed, test, train, val)")]
    [InlineData("karate", "nodes", "10", "karate has no option nodes (it takes none)")]
    public void Bad_options_are_named_with_their_value(string kind, string name, string value, string message)
    {
        var error = Assert.Throws<DtrainException>(() => GraphGenerators.Generate(kind, Options((name, value))));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void An_unknown_kind_lists_the_known_ones()
    {
        var error = Assert.Throws<DtrainException>(() => GraphGenerators.Generate("erdos", Options()));
        Assert.Equal("unknown graph generator 'erdos' (expected one of sbm, rmat, karate)", error.Message);
    }
}
