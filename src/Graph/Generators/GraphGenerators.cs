using Dtrain.Contracts;
using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Generators;

/// <summary>
/// The generators by name, for <c>dtrain graph generate KIND [--option value ...]</c>: "sbm"
/// (<see cref="StochasticBlockModel"/>), "rmat" (<see cref="RMat"/>) and "karate" (<see cref="KarateClub"/>).
/// Options are named as on the command line without the dashes; unset ones keep the options record's default.
/// </summary>
public static class GraphGenerators
{
    public static IReadOnlyList<string> Kinds { get; } = [StochasticBlockModelOptions.Kind, RMatOptions.Kind, KarateClub.Kind];

    /// <exception cref="DtrainException">An unknown kind or option, or a value that does not parse or is out of range.</exception>
    public static GraphData Generate(string kind, IReadOnlyDictionary<string, string> options)
    {
        var reader = new GeneratorOptionReader(kind, options);
        Func<GraphData> generate = kind switch
        {
            StochasticBlockModelOptions.Kind => SbmFrom(reader),
            RMatOptions.Kind => RMatFrom(reader),
            KarateClub.Kind => KarateClub.Generate,
            _ => throw new DtrainException($"unknown graph generator '{kind}' (expected one of {string.Join(", ", Kinds)})"),
        };
        reader.RejectUnread();
        return generate();
    }

    private static Func<GraphData> SbmFrom(GeneratorOptionReader reader)
    {
        var defaults = new StochasticBlockModelOptions();
        var options = new StochasticBlockModelOptions
        {
            Nodes = reader.Int("nodes", defaults.Nodes),
            Communities = reader.Int("communities", defaults.Communities),
            AverageDegree = reader.Double("degree", defaults.AverageDegree),
            Homophily = reader.Double("homophily", defaults.Homophily),
            FeatureDim = reader.Int("feature-dim", defaults.FeatureDim),
            FeatureNoise = reader.Double("noise", defaults.FeatureNoise),
            Split = reader.Split(defaults.Split),
            Seed = reader.Long("seed", defaults.Seed),
        };
        return () => StochasticBlockModel.Generate(options);
    }

    private static Func<GraphData> RMatFrom(GeneratorOptionReader reader)
    {
        var defaults = new RMatOptions();
        var options = new RMatOptions
        {
            Scale = reader.Int("scale", defaults.Scale),
            EdgeCount = reader.Long("edges", defaults.EdgeCount),
            A = reader.Double("a", defaults.A),
            B = reader.Double("b", defaults.B),
            C = reader.Double("c", defaults.C),
            D = reader.Double("d", defaults.D),
            LevelNoise = reader.Double("level-noise", defaults.LevelNoise),
            Undirected = reader.Bool("undirected", defaults.Undirected),
            FeatureDim = reader.Int("feature-dim", defaults.FeatureDim),
            Classes = reader.Int("classes", defaults.Classes),
            FeatureNoise = reader.Double("noise", defaults.FeatureNoise),
            Split = reader.Split(defaults.Split),
            Seed = reader.Long("seed", defaults.Seed),
        };
        return () => RMat.Generate(options);
    }
}
