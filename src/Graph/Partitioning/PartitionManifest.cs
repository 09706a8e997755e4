namespace Dtrain.Graph.Partitioning;

/// <summary>
/// manifest.json of a partitioned graph's directory: what was partitioned and how, the partition book, and one
/// entry per partition file. Trainers read it first to check the partitioning fits their job.
/// </summary>
public sealed record PartitionManifest
{
    public const int CurrentFormatVersion = 1;

    public required int FormatVersion { get; init; }

    public required string GraphName { get; init; }

    /// <summary>"metis" or "random".</summary>
    public required string Method { get; init; }

    public required long Seed { get; init; }

    public required int PartitionCount { get; init; }

    public required int NodeCount { get; init; }

    public required long EdgeCount { get; init; }

    public required int FeatureDim { get; init; }

    public required int ClassCount { get; init; }

    /// <summary>The partition book: partition p owns nodes [Boundaries[p], Boundaries[p + 1]).</summary>
    public required int[] Boundaries { get; init; }

    public required PartitionEntry[] Partitions { get; init; }
}

/// <summary>One partition's file and sizes.</summary>
public sealed record PartitionEntry
{
    /// <summary>The file name, relative to the manifest's directory.</summary>
    public required string File { get; init; }

    public required int NodeCount { get; init; }

    public required long EdgeCount { get; init; }

    public required int TrainingNodeCount { get; init; }

    public required int HaloNodeCount { get; init; }

    /// <summary>In-edges whose source another partition owns.</summary>
    public required long CutEdgeCount { get; init; }

    /// <summary>The file's XxHash64, 16 hex digits: a partition file from another run is caught even when intact.</summary>
    public required string Checksum { get; init; }
}
