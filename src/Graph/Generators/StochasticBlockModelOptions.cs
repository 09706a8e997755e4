namespace Dtrain.Graph.Generators;

/// <summary>
/// A stochastic block model for node-classification accuracy tests. The defaults give a 10,000-node, 8-class
/// graph with mean degree about 20 on which a model that sees one node's features alone (an MLP) reaches roughly
/// 40-70% accuracy while a model that averages over neighbours (GraphSAGE) exceeds 90%.
/// </summary>
public sealed record StochasticBlockModelOptions
{
    internal const string Kind = "sbm";

    /// <summary>Number of nodes.</summary>
    public int Nodes { get; init; } = 10_000;

    /// <summary>Number of communities, which are also the classes; node v is in community v mod Communities.</summary>
    public int Communities { get; init; } = 8;

    /// <summary>The mean number of neighbours per node (before the few duplicate edges are dropped).</summary>
    public double AverageDegree { get; init; } = 20;

    /// <summary>The fraction of a node's edges that lead into its own community; 1 / Communities is no structure.</summary>
    public double Homophily { get; init; } = 0.85;

    /// <summary>Feature dimension.</summary>
    public int FeatureDim { get; init; } = 32;

    /// <summary>Standard deviation of the Gaussian noise added to the community centroids (whose entries are standard Gaussian).</summary>
    public double FeatureNoise { get; init; } = 4;

    /// <summary>Shares of nodes to train on, validate and test.</summary>
    public SplitFractions Split { get; init; } = new(0.6, 0.2, 0.2);

    public long Seed { get; init; }

    internal void Validate()
    {
        OptionCheck.Require(Nodes > 0, Kind, "nodes", Nodes, "must be positive");
        OptionCheck.Require(Communities >= 2 && Communities <= Nodes / 2, Kind, "communities", Communities, $"must be in [2, nodes / 2 = {Nodes / 2}]");
        OptionCheck.Require(AverageDegree >= 0 && AverageDegree * Nodes <= int.MaxValue, Kind, "degree", AverageDegree, "must be non-negative with degree × nodes within 2^31");
        OptionCheck.Require(Homophily is >= 0 and <= 1, Kind, "homophily", Homophily, "is outside [0, 1]");
        OptionCheck.Require(FeatureDim > 0 && (long)FeatureDim * Nodes <= Array.MaxLength, Kind, "feature-dim", FeatureDim, "must be positive with feature-dim × nodes within an array");
        OptionCheck.Require(FeatureNoise >= 0, Kind, "noise", FeatureNoise, "must be non-negative");
        Split.Validate(Kind);
    }
}
