namespace Dtrain.Graph.Generators;

/// <summary>
/// A power-law graph by R-MAT (Chakrabarti, Zhan and Faloutsos 2004) for sampling benchmarks: each edge picks one
/// quadrant of the adjacency matrix per level with probabilities A, B, C, D. Defaults follow Graph500 (scale 20,
/// 16 edges per node, A, B, C, D = 0.57, 0.19, 0.19, 0.05).
/// </summary>
public sealed record RMatOptions
{
    internal const string Kind = "rmat";

    /// <summary>The graph has 2^Scale nodes.</summary>
    public int Scale { get; init; } = 20;

    /// <summary>Edges drawn, before duplicates and self-loops are dropped; null means 16 per node (Graph500's edge factor).</summary>
    public long? EdgeCount { get; init; }

    /// <summary>Probability of the top-left quadrant (source and destination both in the lower half of the range).</summary>
    public double A { get; init; } = 0.57;

    /// <summary>Probability of the top-right quadrant.</summary>
    public double B { get; init; } = 0.19;

    /// <summary>Probability of the bottom-left quadrant.</summary>
    public double C { get; init; } = 0.19;

    /// <summary>Probability of the bottom-right quadrant.</summary>
    public double D { get; init; } = 0.05;

    /// <summary>
    /// Per-level noise (Seshadhri, Pinar and Kolda 2013): level l uses A, B, C, D shifted by a seeded
    /// mu_l in [-LevelNoise, LevelNoise], which smooths the oscillations of plain R-MAT's degree distribution. 0 is plain R-MAT.
    /// </summary>
    public double LevelNoise { get; init; }

    /// <summary>Stores every edge in both directions; otherwise edges are directed and stored as in-neighbour lists.</summary>
    public bool Undirected { get; init; }

    /// <summary>Feature dimension.</summary>
    public int FeatureDim { get; init; } = 32;

    /// <summary>Number of classes; each node's label is uniformly random.</summary>
    public int Classes { get; init; } = 8;

    /// <summary>Standard deviation of the noise around each class's centroid in the features (see <see cref="CommunityFeatures"/>).</summary>
    public double FeatureNoise { get; init; } = 4;

    /// <summary>Shares of nodes to train on, validate and test (10% training nodes, as in large benchmarks).</summary>
    public SplitFractions Split { get; init; } = new(0.1, 0.1, 0.8);

    public long Seed { get; init; }

    public int NodeCount => 1 << Scale;

    public long DrawnEdges => EdgeCount ?? 16L * NodeCount;

    internal void Validate()
    {
        OptionCheck.Require(Scale is >= 1 and <= 30, Kind, "scale", Scale, "is outside [1, 30]");
        long limit = Undirected ? Array.MaxLength / 2 : Array.MaxLength;
        OptionCheck.Require(DrawnEdges >= 0 && DrawnEdges <= limit, Kind, "edges", DrawnEdges, $"is outside [0, {limit}]");
        foreach (var (name, value) in new[] { ("a", A), ("b", B), ("c", C), ("d", D) })
        {
            OptionCheck.Require(value is >= 0 and <= 1, Kind, name, value, "is outside [0, 1]");
        }
        OptionCheck.Require(Math.Abs(A + B + C + D - 1) < 1e-6, Kind, "a + b + c + d", A + B + C + D, "is not 1");
        // The shifted probabilities stay in [0, 1] only while mu is at most B, C and (A + D) / 2.
        double noiseLimit = Math.Min(Math.Min(B, C), (A + D) / 2);
        OptionCheck.Require(LevelNoise >= 0 && LevelNoise <= noiseLimit, Kind, "level-noise", LevelNoise, $"is outside [0, min(b, c, (a + d) / 2) = {noiseLimit}]");
        OptionCheck.Require(FeatureDim > 0 && (long)FeatureDim * NodeCount <= Array.MaxLength, Kind, "feature-dim", FeatureDim, "must be positive with feature-dim × nodes within an array");
        OptionCheck.Require(Classes > 0, Kind, "classes", Classes, "must be positive");
        OptionCheck.Require(FeatureNoise >= 0, Kind, "noise", FeatureNoise, "must be non-negative");
        Split.Validate(Kind);
    }
}
