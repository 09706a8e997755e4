using Dtrain.Contracts;
using Dtrain.Graph.Partitioning;

namespace Dtrain.Tests.Graph;

/// <summary>Partitions survive the disk exactly, and every way a partition directory can be wrong is named.</summary>
public class PartitionStoreTests
{
    private static readonly PartitionedGraph Partitioned = GraphPartitioner.Partition(TestGraphs.Clustered(), PartitionMethod.Metis, 3, seed: 2);

    [Fact]
    public void Written_partitions_read_back_equal()
    {
        using var directory = new TempDirectory();
        PartitionStore.Write(directory.Path, Partitioned, "clustered", PartitionMethod.Metis, seed: 2);

        var manifest = PartitionStore.ReadManifest(directory.Path);
        Assert.Equal(("clustered", "metis", 2L, 3), (manifest.GraphName, manifest.Method, manifest.Seed, manifest.PartitionCount));
        Assert.Equal((TestGraphs.NodeCount, Partitioned.Relabelled.EdgeCount), (manifest.NodeCount, manifest.EdgeCount));
        Assert.Equal((TestGraphs.FeatureDim, TestGraphs.Clusters), (manifest.FeatureDim, manifest.ClassCount));
        Assert.Equal(Partitioned.Book.Boundaries, manifest.Boundaries);
        for (int p = 0; p < 3; p++)
        {
            var expected = Partitioned.Partitions[p];
            var entry = manifest.Partitions[p];
            Assert.Equal((expected.NodeCount, expected.EdgeCount, expected.HaloNodes.Length), (entry.NodeCount, entry.EdgeCount, entry.HaloNodeCount));
            AssertEqual(expected, PartitionStore.ReadPartition(directory.Path, p));
        }
        Assert.Equal(Partitioned.Relabelled.Split.Count(s => s == Dtrain.Graph.Storage.NodeSplit.Train), manifest.Partitions.Sum(e => e.TrainingNodeCount));
    }

    [Fact]
    public void A_flipped_byte_is_a_corruption_error_naming_the_file()
    {
        using var directory = Written();
        string path = directory.File(PartitionStore.ReadManifest(directory.Path).Partitions[1].File);
        Corrupt.FlipBits(path, 0x10);

        var error = Assert.Throws<DtrainException>(() => PartitionStore.ReadPartition(directory.Path, 1));
        Assert.Equal($"dtrain graph partition file {path} is corrupted: its checksum does not match its contents", error.Message);
    }

    [Fact]
    public void A_missing_directory_or_manifest_is_named()
    {
        using var directory = Written();
        string missing = directory.File("nowhere");
        Assert.Equal($"partitioned graph directory {missing} does not exist",
            Assert.Throws<DtrainException>(() => PartitionStore.ReadManifest(missing)).Message);

        File.Delete(directory.File(PartitionStore.ManifestName));
        Assert.StartsWith($"{directory.Path} has no manifest.json: not a partitioned graph",
            Assert.Throws<DtrainException>(() => PartitionStore.ReadPartition(directory.Path, 0)).Message);
    }

    [Theory]
    [InlineData("{", "is malformed: ")]
    [InlineData("null", "is malformed: it is null")]
    [InlineData("{\"format_version\": 1}", "is malformed: JSON deserialization for type")]
    public void A_malformed_manifest_is_named(string json, string expected)
    {
        using var directory = Written();
        File.WriteAllText(directory.File(PartitionStore.ManifestName), json);
        var error = Assert.Throws<DtrainException>(() => PartitionStore.ReadManifest(directory.Path));
        Assert.StartsWith($"manifest {directory.File(PartitionStore.ManifestName)} {expected}", error.Message);
    }

    [Fact]
    public void A_manifest_whose_boundaries_disagree_with_its_entries_is_malformed()
    {
        using var directory = Written();
        string path = directory.File(PartitionStore.ManifestName);
        var boundaries = string.Join(",\n    ", Partitioned.Book.Boundaries);
        File.WriteAllText(path, File.ReadAllText(path).Replace(boundaries, string.Join(",\n    ", 0, 1, 2, TestGraphs.NodeCount)));

        var error = Assert.Throws<DtrainException>(() => PartitionStore.ReadManifest(directory.Path));
        Assert.Equal($"manifest {path} is malformed: partition 0 lists {Partitioned.Book.NodeCountOf(0)} nodes but its boundaries give 1", error.Message);
    }

    [Fact]
    public void A_missing_partition_file_is_named()
    {
        using var directory = Written();
        string path = directory.File(PartitionStore.ReadManifest(directory.Path).Partitions[2].File);
        File.Delete(path);
        Assert.Equal($"partition file {path}, listed in manifest.json, is missing",
            Assert.Throws<DtrainException>(() => PartitionStore.ReadPartition(directory.Path, 2)).Message);
    }

    [Fact]
    public void A_partition_file_from_another_partitioning_is_rejected()
    {
        using var directory = Written();
        using var other = new TempDirectory();
        var random = GraphPartitioner.Partition(TestGraphs.Clustered(), PartitionMethod.Random, 3, seed: 2);
        PartitionStore.Write(other.Path, random, "clustered", PartitionMethod.Random, seed: 2);
        string file = PartitionStore.ReadManifest(directory.Path).Partitions[0].File;
        File.Copy(other.File(file), directory.File(file), overwrite: true);

        var error = Assert.Throws<DtrainException>(() => PartitionStore.ReadPartition(directory.Path, 0));
        Assert.StartsWith($"partition file {directory.File(file)} is not the one manifest.json lists", error.Message);
    }

    [Fact]
    public void Fewer_partitions_than_workers_is_an_error_and_more_are_shared_out()
    {
        using var directory = Written();
        var manifest = PartitionStore.ReadManifest(directory.Path);
        PartitionStore.CheckPartitionCount(directory.Path, manifest, workers: 3);
        PartitionStore.CheckPartitionCount(directory.Path, manifest, workers: 1);
        var error = Assert.Throws<DtrainException>(() => PartitionStore.CheckPartitionCount(directory.Path, manifest, workers: 4));
        Assert.Equal($"the graph in {directory.Path} has 3 partitions, fewer than the job's 4 workers: partition it with --parts 4 or more", error.Message);
    }

    private static TempDirectory Written()
    {
        var directory = new TempDirectory();
        PartitionStore.Write(directory.Path, Partitioned, "clustered", PartitionMethod.Metis, seed: 2);
        return directory;
    }

    private static void AssertEqual(GraphPartition expected, GraphPartition actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Book.Boundaries, actual.Book.Boundaries);
        Assert.Equal(expected.InOffsets, actual.InOffsets);
        Assert.Equal(expected.InSources, actual.InSources);
        Assert.Equal(expected.EdgeWeights, actual.EdgeWeights);
        Assert.Equal((expected.FeatureDim, expected.ClassCount), (actual.FeatureDim, actual.ClassCount));
        Assert.Equal(expected.Features, actual.Features);
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.Split, actual.Split);
        Assert.Equal(expected.HaloNodes, actual.HaloNodes);
    }
}
