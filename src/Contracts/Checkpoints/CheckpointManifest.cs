namespace Dtrain.Contracts.Checkpoints;

/// <summary>
/// A committed checkpoint: the step it was taken after, the world size that wrote it, the job whose state it holds,
/// and every rank's shard with its checksum. Its file is written only after every shard was reported, so a
/// checkpoint exists exactly when its manifest does.
/// </summary>
public sealed record CheckpointManifest
{
    public const int CurrentFormatVersion = 1;

    public required int FormatVersion { get; init; }

    /// <summary>Optimizer steps taken before the checkpoint; training resumes with this step.</summary>
    public required long Step { get; init; }

    public required int WorldSize { get; init; }

    /// <summary>The job that committed it; null in a checkpoint written before manifests named their job.</summary>
    public CheckpointIdentity? Job { get; init; }

    /// <summary>One per rank, in rank order.</summary>
    public required CheckpointShard[] Shards { get; init; }
}

/// <summary>One rank's shard: its file, relative to the checkpoint's directory, and the file's XxHash64 in hex.</summary>
public sealed record CheckpointShard
{
    public required int Rank { get; init; }

    public required string File { get; init; }

    public required string Checksum { get; init; }
}
