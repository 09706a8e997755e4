using System.Globalization;
using System.Text.RegularExpressions;
using Dtrain.Graph.Import;
using Dtrain.Tests.Graph;
using Dtrain.Tests.Models.Data;
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

    /// <summary>One worker; the killed-worker tests in ElasticRunTests train the default graph on four.</summary>
    [Fact]
    public async Task The_default_graph_trains_on_one_worker()
    {
        var run = await DtrainProcess.RunAsync(Limit, "run", "--model", "graphsage", "--workers", "1", "--steps", "40",
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

    /// <summary>
    /// A user's own graph, and a real one: Adamic and Glance's political blogs (data/polblogs.gt.gz, from Debian's
    /// python3-graph-tool) written as CSV (hyperlinks, one-hot node features as a featureless graph gets them, each
    /// blog's leaning), imported, cut into 3 partitions and trained on 2 workers (one holds two), against 1 worker
    /// on the whole graph with the same settings.
    /// </summary>
    [DatasetFact(PolBlogsFile)]
    public async Task A_real_csv_graph_imports_partitions_and_trains_on_fewer_workers_than_partitions_like_one_partition()
    {
        using var directory = new TempDirectory();
        var blogs = GraphToolFile.Read(Datasets.PathOf(PolBlogsFile), labelProperty: "value");
        string edges = directory.File("edges.csv"), features = directory.File("features.csv"), labels = directory.File("labels.csv");
        File.WriteAllLines(edges, blogs.Sources.Zip(blogs.Targets, (source, target) => Invariant($"{source},{target}")).Prepend("source,target"));
        File.WriteAllLines(features, Enumerable.Range(0, blogs.NodeCount)
            .Select(v => string.Join(',', Enumerable.Range(0, blogs.NodeCount).Select(column => column == v ? "1" : "0"))));
        File.WriteAllLines(labels, blogs.Labels!.Select(label => label.ToString(CultureInfo.InvariantCulture)));
        string imported = directory.File("polblogs.dtg");

        var import = await DtrainProcess.RunAsync(Limit, "graph", "import", edges, "--features", features, "--labels", labels, "--seed", "2", "--out", imported);
        Assert.True(import.ExitCode == 0, import.Stderr);
        Assert.StartsWith($"{imported}: 1490 nodes, 33430 edges (both ways) from 19090 edge rows, 1490 features, 2 classes", import.Stdout);
        var accuracy = new Dictionary<int, double>();
        foreach (var (parts, workers) in new[] { (3, 2), (1, 1) })
        {
            string partitioned = directory.File($"parts{parts}");
            var partition = await DtrainProcess.RunAsync(Limit, "graph", "partition", imported, "--parts", parts.ToString(), "--out", partitioned);
            Assert.True(partition.ExitCode == 0, partition.Stderr);
            accuracy[parts] = AccuracyOf(await DtrainProcess.RunAsync(Limit, "run", "--model", "graphsage", "--graph", partitioned, "--workers", workers.ToString(),
                "--steps", PolBlogsSteps, "--fanouts", "10,5", "--batch-size", "64", "--device", "cpu", "--port", TestPorts.FreePair().ToString()));
        }

        Assert.True(accuracy[1] >= 80 && accuracy[3] >= 80 && Math.Abs(accuracy[3] - accuracy[1]) <= 5, $"3 partitions {accuracy[3]} %, 1 partition {accuracy[1]} %");
    }

    private const string PolBlogsFile = "polblogs.gt.gz";
    private const string PolBlogsSteps = "60";

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
    [InlineData("the graph in {0} has 2 partitions, fewer than the job's 3 workers", "--workers", "3")]
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
