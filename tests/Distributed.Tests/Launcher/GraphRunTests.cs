using System.Globalization;
using System.Text.RegularExpressions;
using Dtrain.Tests.Graph;
using static System.FormattableString;

namespace Dtrain.Tests.Launcher;

/// <summary>`dtrain run --model graphsage` end to end: real worker processes, each serving its partition over gRPC.</summary>
public class GraphRunTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private static readonly Regex Summary = new(@"done: (\d+) steps on (\d) workers, final loss \S+, held-out accuracy (\S+) %, wall time \S+ s, parameters identical on all ranks");

    private static double AccuracyOf((int ExitCode, string Stdout, string Stderr) run)
    {
        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}; stderr: {run.Stderr}");
        var summary = Summary.Match(run.Stdout);
        Assert.True(summary.Success, run.Stdout);
        return double.Parse(summary.Groups[3].Value, CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task The_default_graph_trains_on_any_number_of_workers(int workers)
    {
        var run = await DtrainProcess.RunAsync(Limit, "run", "--model", "graphsage", "--workers", workers.ToString(), "--steps", "40",
            "--batch-size", "128", "--device", "cpu", "--port", TestPorts.FreePair().ToString());
        Assert.True(AccuracyOf(run) >= 90, run.Stdout);
    }

    [Fact]
    public async Task A_graph_generated_and_partitioned_by_the_cli_trains_on_three_workers()
    {
        using var directory = new TempDirectory();
        string graph = directory.File("sbm.dtg"), parts = directory.File("parts");
        var generate = await DtrainProcess.RunAsync(Limit, "graph", "generate", "sbm", "nodes=6000", "homophily=0.8", "seed=9", "--out", graph);
        Assert.True(generate.ExitCode == 0, generate.Stderr);
        var partition = await DtrainProcess.RunAsync(Limit, "graph", "partition", graph, "--parts", "3", "--out", parts);
        Assert.True(partition.ExitCode == 0, partition.Stderr);

        var run = await DtrainProcess.RunAsync(Limit, "run", "--model", "graphsage", "--graph", parts, "--workers", "3", "--steps", "40",
            "--fanouts", "8,4", "--batch-size", "64", "--device", "cpu", "--port", TestPorts.FreePair().ToString());
        Assert.True(AccuracyOf(run) >= 85, run.Stdout);
    }

    /// <summary>A user's own graph: CSV edges, features and labels, imported, partitioned and trained by the CLI.</summary>
    [Fact]
    public async Task A_csv_graph_with_features_and_labels_imports_partitions_and_trains()
    {
        using var directory = new TempDirectory();
        var graph = TestGraphs.Clustered(seed: 5, weighted: false);
        string edges = directory.File("edges.csv"), features = directory.File("features.csv"), labels = directory.File("labels.csv");
        File.WriteAllLines(edges, Enumerable.Range(0, graph.NodeCount)
            .SelectMany(v => graph.InNeighbours(v).ToArray().Select(u => Invariant($"{u},{v}"))).Prepend("source,target"));
        File.WriteAllLines(features, Enumerable.Range(0, graph.NodeCount)
            .Select(v => string.Join(',', graph.FeaturesOf(v).ToArray().Select(f => f.ToString("R", CultureInfo.InvariantCulture)))));
        File.WriteAllLines(labels, graph.Labels.Select(l => l.ToString(CultureInfo.InvariantCulture)));
        string imported = directory.File("mine.dtg"), parts = directory.File("parts");

        var import = await DtrainProcess.RunAsync(Limit, "graph", "import", edges, "--features", features, "--labels", labels, "--seed", "2", "--out", imported);
        Assert.True(import.ExitCode == 0, import.Stderr);
        Assert.StartsWith($"{imported}: {graph.NodeCount} nodes, ", import.Stdout);
        var partition = await DtrainProcess.RunAsync(Limit, "graph", "partition", imported, "--parts", "2", "--out", parts);
        Assert.True(partition.ExitCode == 0, partition.Stderr);

        var run = await DtrainProcess.RunAsync(Limit, "run", "--model", "graphsage", "--graph", parts, "--workers", "2", "--steps", "30",
            "--fanouts", "8,4", "--batch-size", "64", "--device", "cpu", "--port", TestPorts.FreePair().ToString());
        Assert.True(AccuracyOf(run) >= 85, run.Stdout);
    }

    [Fact]
    public async Task A_corrupted_partition_fails_the_run_with_one_line_naming_the_file()
    {
        using var directory = new TempDirectory();
        string graph = directory.File("sbm.dtg"), parts = directory.File("parts");
        await DtrainProcess.RunAsync(Limit, "graph", "generate", "sbm", "nodes=2000", "--out", graph);
        await DtrainProcess.RunAsync(Limit, "graph", "partition", graph, "--parts", "2", "--out", parts);
        string victim = Path.Combine(parts, "partition-1.dtgp");
        Corrupt.FlipBits(victim, 0x10);

        var run = await DtrainProcess.RunAsync(Limit, "run", "--model", "graphsage", "--graph", parts, "--workers", "2", "--device", "cpu",
            "--port", TestPorts.FreePair().ToString());

        Assert.Equal(1, run.ExitCode);
        BadInputTests.AssertOneLineError(run.Stderr, $"{victim} is corrupted");
    }

    [Theory]
    [InlineData("the graph in {0} has 2 partitions but the job has 3 workers", "--workers", "3")]
    [InlineData("graph.fanouts must be positive integers, one per hop (example: 10,10), got [10,-1]", "--workers", "2", "--fanouts", "10,-1")]
    [InlineData("--graph-task must be one of node, link, got 'edge'", "--workers", "2", "--graph-task", "edge")]
    public async Task A_job_that_does_not_fit_the_graph_is_a_usage_error(string expected, params string[] flags)
    {
        using var directory = new TempDirectory();
        string graph = directory.File("sbm.dtg"), parts = directory.File("parts");
        await DtrainProcess.RunAsync(Limit, "graph", "generate", "sbm", "nodes=2000", "--out", graph);
        await DtrainProcess.RunAsync(Limit, "graph", "partition", graph, "--parts", "2", "--out", parts);

        var run = await DtrainProcess.RunAsync(Limit, ["run", "--model", "graphsage", "--graph", parts, .. flags]);

        Assert.Equal(2, run.ExitCode);
        BadInputTests.AssertOneLineError(run.Stderr, string.Format(CultureInfo.InvariantCulture, expected, parts));
    }
}
