using System.Text.Json;
using Dtrain.Contracts;
using Dtrain.Contracts.Storage;
using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Partitioning;

/// <summary>
/// A partitioned graph on disk: a directory of one <see cref="PartitionFile"/> per partition and a manifest.json
/// (<see cref="PartitionManifest"/>) naming them. The manifest is written last and atomically, so a directory with
/// a manifest has all its partition files; each file's checksum in the manifest catches a file left by another run.
/// </summary>
public static class PartitionStore
{
    public const string ManifestName = "manifest.json";

    public static PartitionManifest Write(string directory, PartitionedGraph graph, string graphName, PartitionMethod method, long seed)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var entries = graph.Partitions.Select(partition =>
            {
                string file = $"partition-{partition.Id}.dtgp";
                ulong checksum = PartitionFile.Write(Path.Combine(directory, file), partition);
                return new PartitionEntry
                {
                    File = file,
                    NodeCount = partition.NodeCount,
                    EdgeCount = partition.EdgeCount,
                    TrainingNodeCount = partition.Split.Count(s => s == NodeSplit.Train),
                    HaloNodeCount = partition.HaloNodes.Length,
                    CutEdgeCount = partition.CountRemoteEdges(),
                    Checksum = ManifestJson.Hex(checksum),
                };
            }).ToArray();
            var manifest = new PartitionManifest
            {
                FormatVersion = PartitionManifest.CurrentFormatVersion,
                GraphName = graphName,
                Method = method.ToString().ToLowerInvariant(),
                Seed = seed,
                PartitionCount = graph.Book.PartitionCount,
                NodeCount = graph.Relabelled.NodeCount,
                EdgeCount = graph.Relabelled.EdgeCount,
                FeatureDim = graph.Relabelled.FeatureDim,
                ClassCount = graph.Relabelled.ClassCount,
                Boundaries = graph.Book.Boundaries,
                Partitions = entries,
            };
            ManifestJson.WriteAtomically(Path.Combine(directory, ManifestName), manifest);
            return manifest;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DtrainException($"cannot write the partitions to {directory}: {e.Message}");
        }
    }

    public static PartitionManifest ReadManifest(string directory)
    {
        if (!Directory.Exists(directory)) throw new DtrainException($"partitioned graph directory {directory} does not exist");
        string path = Path.Combine(directory, ManifestName);
        if (!File.Exists(path)) throw new DtrainException($"{directory} has no {ManifestName}: not a partitioned graph (write one with 'dtrain graph partition')");
        PartitionManifest? manifest;
        try
        {
            using var stream = File.OpenRead(path);
            manifest = JsonSerializer.Deserialize<PartitionManifest>(stream, ManifestJson.Options);
        }
        catch (JsonException e)
        {
            throw new DtrainException($"manifest {path} is malformed: {OneLine.Escaped(e.Message)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DtrainException($"cannot read manifest {path}: {e.Message}");
        }
        string? problem = manifest is null ? "it is null" : FindProblem(manifest);
        if (problem is not null) throw new DtrainException($"manifest {path} is malformed: {problem}");
        return manifest!;
    }

    /// <summary>Partition <paramref name="partition"/>, checked against the manifest: the very file it lists, holding that partition of that book.</summary>
    public static GraphPartition ReadPartition(string directory, int partition)
    {
        var manifest = ReadManifest(directory);
        if (partition < 0 || partition >= manifest.PartitionCount)
        {
            throw new DtrainException($"the graph in {directory} has partitions 0 to {manifest.PartitionCount - 1}, not {partition}");
        }
        var entry = manifest.Partitions[partition];
        string path = Path.Combine(directory, entry.File);
        if (!File.Exists(path)) throw new DtrainException($"partition file {path}, listed in {ManifestName}, is missing");
        var read = PartitionFile.Read(path, out ulong checksum);
        if (ManifestJson.Hex(checksum) != entry.Checksum)
        {
            throw new DtrainException($"partition file {path} is not the one {ManifestName} lists (checksum {ManifestJson.Hex(checksum)}, expected {entry.Checksum}): was it written by another partitioning?");
        }
        if (read.Id != partition || !read.Book.Boundaries.SequenceEqual(manifest.Boundaries))
        {
            throw new DtrainException($"partition file {path} holds partition {read.Id} of another partition book, not partition {partition} of {ManifestName}");
        }
        return read;
    }

    /// <summary>A job trains on a partitioned graph with at least one partition per worker; fewer is an error before training starts.</summary>
    public static void CheckPartitionCount(string directory, PartitionManifest manifest, int workers)
    {
        if (manifest.PartitionCount < workers)
        {
            throw new DtrainException($"the graph in {directory} has {manifest.PartitionCount} partitions, fewer than the job's {workers} workers: partition it with --parts {workers} or more");
        }
    }

    private static string? FindProblem(PartitionManifest manifest)
    {
        if (manifest.FormatVersion != PartitionManifest.CurrentFormatVersion)
        {
            return $"format version {manifest.FormatVersion}, but this dtrain reads version {PartitionManifest.CurrentFormatVersion}";
        }
        // Null elements of a list pass the JSON reader's null checks, which cover properties only.
        if (manifest.Partitions.Any(entry => entry is null)) return "a partition entry is null";
        if (manifest.PartitionCount < 1 || manifest.Boundaries.Length != manifest.PartitionCount + 1 || manifest.Partitions.Length != manifest.PartitionCount)
        {
            return $"{manifest.PartitionCount} partitions, {manifest.Boundaries.Length} boundaries and {manifest.Partitions.Length} partition entries do not agree";
        }
        if (manifest.Boundaries[0] != 0 || manifest.Boundaries[^1] != manifest.NodeCount)
        {
            return $"the boundaries do not cover nodes 0 to {manifest.NodeCount}";
        }
        for (int p = 0; p < manifest.PartitionCount; p++)
        {
            var entry = manifest.Partitions[p];
            int nodes = manifest.Boundaries[p + 1] - manifest.Boundaries[p];
            if (nodes < 0) return $"the boundaries decrease at partition {p}";
            if (entry.NodeCount != nodes) return $"partition {p} lists {entry.NodeCount} nodes but its boundaries give {nodes}";
            if (entry.File != Path.GetFileName(entry.File) || entry.File.Length == 0) return $"partition {p}'s file {OneLine.Quoted(entry.File)} is not a file name in the directory";
        }
        return null;
    }
}
