using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Storage;
using Dtrain.Tests.Launcher;

namespace Dtrain.Tests.Graph;

/// <summary>`dtrain graph partition` run as a user runs it.</summary>
public class GraphCommandTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("metis")]
    [InlineData("random")]
    public async Task Partition_writes_a_directory_whose_manifest_lists_the_partitions(string method)
    {
        using var directory = new TempDirectory();
        string graph = directory.File("clustered.dtg"), output = directory.File("parts");
        GraphFile.Write(graph, TestGraphs.Clustered());

        var (code, stdout, stderr) = await DtrainProcess.RunAsync(Limit,
            "graph", "partition", graph, "--parts", "3", "--method", method, "--seed", "4", "--out", output);

        Assert.True(code == 0, $"exit code {code}; stderr: {stderr}");
        var manifest = PartitionStore.ReadManifest(output);
        Assert.Equal((3, "clustered", method, 4L), (manifest.PartitionCount, manifest.GraphName, manifest.Method, manifest.Seed));
        Assert.Equal(TestGraphs.NodeCount, Enumerable.Range(0, 3).Sum(p => PartitionStore.ReadPartition(output, p).NodeCount));
        Assert.Contains("edge cut: ", stdout);
    }

    [Theory]
    [InlineData(2, "--parts must be at least 1, got 0", "--parts", "0")]
    [InlineData(2, "--method must be one of metis, random, got 'kmeans'", "--parts", "2", "--method", "kmeans")]
    [InlineData(2, "Option '--parts' is required", "--method", "random")]
    [InlineData(1, "cannot split a graph of 2000 nodes into 2001 partitions", "--parts", "2001")]
    public async Task Bad_flags_are_one_line_errors(int exitCode, string expected, params string[] flags)
    {
        using var directory = new TempDirectory();
        string graph = directory.File("clustered.dtg");
        GraphFile.Write(graph, TestGraphs.Clustered());

        var (code, _, stderr) = await DtrainProcess.RunAsync(Limit,
            ["graph", "partition", graph, "--out", directory.File("parts"), .. flags]);

        Assert.Equal(exitCode, code);
        BadInputTests.AssertOneLineError(stderr, expected);
    }

    [Fact]
    public async Task A_missing_graph_file_is_a_one_line_error()
    {
        using var directory = new TempDirectory();
        string graph = directory.File("missing.dtg");
        var (code, _, stderr) = await DtrainProcess.RunAsync(Limit, "graph", "partition", graph, "--parts", "2", "--out", directory.File("parts"));

        Assert.Equal(1, code);
        BadInputTests.AssertOneLineError(stderr, $"cannot read dtrain graph file {graph}");
    }

    [Fact]
    public async Task A_corrupted_graph_file_is_a_one_line_error()
    {
        using var directory = new TempDirectory();
        string graph = directory.File("clustered.dtg");
        GraphFile.Write(graph, TestGraphs.Clustered());
        Corrupt.FlipBits(graph, 0x01, position: 100);

        var (code, _, stderr) = await DtrainProcess.RunAsync(Limit, "graph", "partition", graph, "--parts", "2", "--out", directory.File("parts"));

        Assert.Equal(1, code);
        BadInputTests.AssertOneLineError(stderr, $"dtrain graph file {graph} is corrupted");
        Assert.False(Directory.Exists(directory.File("parts")));
    }
}
