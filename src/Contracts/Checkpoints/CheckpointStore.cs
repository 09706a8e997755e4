using System.Globalization;
using System.Text.Json;
using Dtrain.Contracts.Storage;

namespace Dtrain.Contracts.Checkpoints;

/// <summary>
/// Sharded checkpoints on disk, one directory per checkpoint: DIR/step-00000100/rank-K.shard (each a
/// <see cref="ChecksummedFile"/> written by its rank) and DIR/step-00000100/manifest.json, written by the
/// coordinator last, atomically, once every shard is in. A directory without a manifest is an unfinished checkpoint
/// and is never read. Resuming takes the newest checkpoint whose every shard is present and matches its checksum.
/// A write that fails (a full disk) is a <see cref="CheckpointWriteException"/> and leaves no committed checkpoint changed:
/// shards and manifests are written to a temporary file and renamed.
/// </summary>
public static class CheckpointStore
{
    public const string ManifestName = "manifest.json", ShardMagic = "DTCKPT02", ShardKind = "dtrain checkpoint shard";
    private const string StepPrefix = "step-";

    public static string DirectoryOf(string root, long step) => Path.Combine(root, $"{StepPrefix}{step:D8}");

    public static string ShardName(int rank) => $"rank-{rank}.shard";

    /// <summary>Writes one rank's shard of the checkpoint after <paramref name="step"/>; returns its checksum in hex.</summary>
    /// <exception cref="CheckpointWriteException">The shard cannot be written (a full disk, say); nothing committed is touched.</exception>
    public static string WriteShard(string root, long step, int rank, Action<BinaryWriter> writePayload)
    {
        string directory = DirectoryOf(root, step), path = Path.Combine(directory, ShardName(rank));
        return Writing(path, () =>
        {
            Directory.CreateDirectory(directory);
            // A run resumed from an earlier step replaces a checkpoint an earlier run committed at this step: take its
            // manifest away first, so that it never vouches for a mix of old and new shards.
            File.Delete(Path.Combine(directory, ManifestName));
            return ManifestJson.Hex(ChecksummedFile.Write(path, ShardMagic, writePayload));
        });
    }

    /// <summary>A write of <paramref name="path"/> whose failure (a full disk, no permission) is a one-line error naming the file.</summary>
    private static void Writing(string path, Action write) => Writing(path, () =>
    {
        write();
        return 0;
    });

    private static T Writing<T>(string path, Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointWriteException(path, e);
        }
    }

    /// <summary>
    /// Commits a checkpoint whose shards are all written, then deletes all but the newest <paramref name="keep"/>
    /// committed ones of the same state up to it. A newer checkpoint, or another job's, is never deleted.
    /// </summary>
    /// <exception cref="CheckpointWriteException">The manifest cannot be written (a full disk, say); the checkpoints before stay as they were.</exception>
    public static void Commit(string root, CheckpointManifest manifest, int keep)
    {
        string path = Path.Combine(DirectoryOf(root, manifest.Step), ManifestName);
        Writing(path, () => ManifestJson.WriteAtomically(path, manifest));
        var kept = CommittedSteps(root).Where(step => step <= manifest.Step && OfSameState(root, step, manifest.Job));
        foreach (long old in kept.Skip(keep).ToArray()) Directory.Delete(DirectoryOf(root, old), recursive: true);
    }

    /// <summary>
    /// The newest committed checkpoint that is whole, or null if there is none. A checkpoint with a missing or
    /// corrupted shard is passed over for the one before it; <paramref name="skipped"/> says which and why.
    /// </summary>
    public static CheckpointManifest? LatestValid(string root, out IReadOnlyList<string> skipped) => LatestValid(root, _ => null, long.MaxValue, [], out skipped);

    /// <summary>
    /// The newest whole checkpoint at <paramref name="atMost"/> steps or before that <paramref name="refusal"/>
    /// takes (it returns why it refuses one, or null), or null if there is none. Checkpoints passed over, and steps
    /// of <paramref name="expected"/> (known to have been committed) whose manifest is gone, are in <paramref name="skipped"/>.
    /// </summary>
    public static CheckpointManifest? LatestValid(
        string root, Func<CheckpointManifest, string?> refusal, long atMost, IEnumerable<long> expected, out IReadOnlyList<string> skipped)
    {
        var reasons = new List<string>();
        skipped = reasons;
        foreach (long step in CommittedSteps(root).Union(expected.Where(step => step > 0)).Where(step => step <= atMost).OrderDescending())
        {
            string? problem = Problem(root, step, refusal, out var manifest);
            if (problem is null) return manifest;
            reasons.Add($"checkpoint {DirectoryOf(root, step)} skipped: {problem}");
        }
        return null;
    }

    /// <summary>Every committed checkpoint whose manifest can be read, newest first.</summary>
    public static IEnumerable<CheckpointManifest> Committed(string root)
    {
        foreach (long step in CommittedSteps(root))
        {
            CheckpointManifest manifest;
            try
            {
                manifest = ReadManifest(root, step);
            }
            catch (DtrainException)
            {
                continue;
            }
            yield return manifest;
        }
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

    private static string? Problem(string root, long step, Func<CheckpointManifest, string?> refusal, out CheckpointManifest? manifest)
    {
        manifest = null;
        if (!File.Exists(Path.Combine(DirectoryOf(root, step), ManifestName))) return "its manifest is gone";
        try
        {
            manifest = ReadManifest(root, step);
            if (refusal(manifest) is { } refused) return refused;
            foreach (int rank in Enumerable.Range(0, manifest.WorldSize)) ReadShard(root, manifest, rank).Dispose();
            return null;
        }
        catch (DtrainException e)
        {
            return e.Message;
        }
    }

    /// <summary>Whether the checkpoint of <paramref name="step"/> holds the same state as <paramref name="job"/> would (a checkpoint that names no job is taken to).</summary>
    private static bool OfSameState(string root, long step, CheckpointIdentity? job)
    {
        try
        {
            return ReadManifest(root, step).Job is not { } writer || job is null || writer.StateDiffers(job) is null;
        }
        catch (DtrainException)
        {
            return false;
        }
    }
}
