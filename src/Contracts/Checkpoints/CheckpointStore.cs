using System.Globalization;
using System.Text.Json;
using Dtrain.Contracts.Storage;

namespace Dtrain.Contracts.Checkpoints;

/// <summary>
/// Sharded checkpoints on disk, one directory per checkpoint: DIR/step-00000100/rank-K.shard (each a
/// <see cref="ChecksummedFile"/> written by its rank) and DIR/step-00000100/manifest.json, written by the
/// coordinator last, atomically, once every shard is in. A directory without a manifest is an unfinished checkpoint
/// and is never read. Resuming takes the newest checkpoint whose every shard is present and matches its checksum.
/// </summary>
public static class CheckpointStore
{
    public const string ManifestName = "manifest.json", ShardMagic = "DTCKPT02", ShardKind = "dtrain checkpoint shard";
    private const string StepPrefix = "step-";

    public static string DirectoryOf(string root, long step) => Path.Combine(root, $"{StepPrefix}{step:D8}");

    public static string ShardName(int rank) => $"rank-{rank}.shard";

    /// <summary>Writes one rank's shard of the checkpoint after <paramref name="step"/>; returns its checksum in hex.</summary>
    public static string WriteShard(string root, long step, int rank, Action<BinaryWriter> writePayload)
    {
        string directory = DirectoryOf(root, step);
        Directory.CreateDirectory(directory);
        // A run resumed from an earlier step replaces a checkpoint an earlier run committed at this step: take its
        // manifest away first, so that it never vouches for a mix of old and new shards.
        File.Delete(Path.Combine(directory, ManifestName));
        return ManifestJson.Hex(ChecksummedFile.Write(Path.Combine(directory, ShardName(rank)), ShardMagic, writePayload));
    }

    /// <summary>Commits a checkpoint whose shards are all written, then deletes all but the newest <paramref name="keep"/> committed ones.</summary>
    public static void Commit(string root, CheckpointManifest manifest, int keep)
    {
        ManifestJson.WriteAtomically(Path.Combine(DirectoryOf(root, manifest.Step), ManifestName), manifest);
        foreach (long old in CommittedSteps(root).Skip(keep)) Directory.Delete(DirectoryOf(root, old), recursive: true);
    }

    /// <summary>
    /// The newest committed checkpoint that is whole, or null if there is none. A checkpoint with a missing or
    /// corrupted shard is passed over for the one before it; <paramref name="skipped"/> says which and why.
    /// </summary>
    /// <param name="atMost">Only checkpoints of this step or earlier are considered.</param>
    public static CheckpointManifest? LatestValid(string root, out IReadOnlyList<string> skipped, long atMost = long.MaxValue)
    {
        var reasons = new List<string>();
        skipped = reasons;
        foreach (long step in CommittedSteps(root).Where(step => step <= atMost))
        {
            string? problem = Problem(root, step, out var manifest);
            if (problem is null) return manifest;
            reasons.Add($"checkpoint {DirectoryOf(root, step)} skipped: {problem}");
        }
        return null;
    }

    /// <summary>The payload of a rank's shard, checked against the manifest's checksum.</summary>
    public static BinaryReader ReadShard(string root, CheckpointManifest manifest, int rank)
    {
        var shard = manifest.Shards[rank];
        var reader = ChecksummedFile.Read(Path.Combine(DirectoryOf(root, manifest.Step), shard.File), ShardMagic, ShardKind, out ulong checksum);
        if (ManifestJson.Hex(checksum) != shard.Checksum)
        {
            reader.Dispose();
            throw new DtrainException($"checkpoint shard {shard.File} of step {manifest.Step} is not the one its manifest lists");
        }
        return reader;
    }

    /// <summary>Steps of committed checkpoints, newest first.</summary>
    private static IEnumerable<long> CommittedSteps(string root)
    {
        if (!Directory.Exists(root)) return [];
        return Directory.EnumerateDirectories(root, StepPrefix + "*")
            .Select(directory => long.TryParse(Path.GetFileName(directory)[StepPrefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out long step) ? step : -1)
            .Where(step => step >= 0 && File.Exists(Path.Combine(DirectoryOf(root, step), ManifestName)))
            .OrderDescending()
            .ToArray();
    }

    /// <summary>The committed manifest of the checkpoint after <paramref name="step"/> steps; an error naming it when it cannot be used.</summary>
    public static CheckpointManifest ReadManifest(string root, long step)
    {
        string path = Path.Combine(DirectoryOf(root, step), ManifestName);
        CheckpointManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(path), ManifestJson.Options);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw new DtrainException($"checkpoint manifest {path} cannot be read: {OneLine.Escaped(e.Message)}");
        }
        // Null elements of a list pass the JSON reader's null checks, which cover properties only; a shard's file is
        // one of the checkpoint's own, never a path elsewhere.
        if (manifest is null || manifest.FormatVersion != CheckpointManifest.CurrentFormatVersion || manifest.Step != step
            || manifest.Shards.Length != manifest.WorldSize
            || manifest.Shards.Where((shard, rank) => shard is null || shard.Rank != rank || shard.File == "" || shard.File != Path.GetFileName(shard.File)).Any())
        {
            throw new DtrainException($"checkpoint manifest {path} is malformed");
        }
        return manifest;
    }

    private static string? Problem(string root, long step, out CheckpointManifest? manifest)
    {
        manifest = null;
        try
        {
            manifest = ReadManifest(root, step);
            foreach (int rank in Enumerable.Range(0, manifest.WorldSize)) ReadShard(root, manifest, rank).Dispose();
            return null;
        }
        catch (DtrainException e)
        {
            return e.Message;
        }
    }

}
