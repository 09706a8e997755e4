using System.CommandLine;
using System.Diagnostics;
using Dtrain.Contracts;
using Dtrain.Graph.Generators;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Storage;

namespace Dtrain.Launcher.Commands;

/// <summary>`dtrain graph`: preparing graphs for GNN training, one subcommand per step (`generate`, `partition`).</summary>
public static class GraphCommand
{
    private static readonly Dictionary<string, PartitionMethod> Methods =
        Enum.GetValues<PartitionMethod>().ToDictionary(method => method.ToString().ToLowerInvariant());

    public static Command Create() => new("graph", "Prepare graphs for GNN training") { Generate(), Partition() };

    private static Command Generate()
    {
        var kind = new Argument<string>("kind") { Description = $"generator: {string.Join(", ", GraphGenerators.Kinds)}" };
        var options = new Argument<string[]>("options")
        {
            Description = "generator options as name=value, e.g. nodes=10000 homophily=0.8 (sbm) or scale=20 edges=20000000 (rmat)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var output = new Option<string>("--out") { Description = "the graph file to write", Required = true };

        var command = new Command("generate", "Write a generated graph: a stochastic block model (sbm), a power-law R-MAT graph (rmat) or Zachary's karate club (karate)")
        {
            kind, options, output,
        };
        command.SetAction(parse =>
        {
            var settings = new Dictionary<string, string>();
            foreach (string option in parse.GetValue(options) ?? [])
            {
                var (name, value) = option.Split('=', 2) is [var n, var v] && n != "" ? (n, v) : throw new UsageException($"generator options are name=value, got '{option}'");
                if (!settings.TryAdd(name, value)) throw new UsageException($"generator option '{name}' is given twice");
            }
            var clock = Stopwatch.StartNew();
            GraphData graph;
            try
            {
                graph = GraphGenerators.Generate(parse.GetValue(kind)!, settings);
            }
            catch (DtrainException e)
            {
                throw new UsageException(e.Message);
            }
            string path = parse.GetValue(output)!;
            GraphFile.Write(path, graph);
            Console.WriteLine($"{path}: {graph.NodeCount} nodes, {graph.EdgeCount} edges, {graph.FeatureDim} features, {graph.ClassCount} classes, " +
                $"{graph.NodesIn(NodeSplit.Train).Length} training nodes, in {clock.Elapsed.TotalSeconds:F2} s");
            return 0;
        });
        return command;
    }

    private static Command Partition()
    {
        var graphFile = new Argument<string>("graph-file") { Description = "a dtrain graph file" };
        var parts = new Option<int>("--parts") { Description = "number of partitions, one per worker", Required = true };
        var method = new Option<string>("--method") { Description = "metis (few edges cut, training nodes balanced) or random", DefaultValueFactory = _ => "metis" };
        var seed = new Option<long>("--seed") { Description = "seed of METIS or of the random assignment", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "directory for the partition files and manifest.json", Required = true };

        var command = new Command("partition", "Split a graph into partitions that own contiguous node ID ranges, one file each, and a manifest")
        {
            graphFile, parts, method, seed, output,
        };
        command.SetAction(parse =>
        {
            int partCount = parse.GetValue(parts);
            if (partCount < 1) throw new UsageException($"--parts must be at least 1, got {partCount}");
            string path = parse.GetValue(graphFile)!, directory = parse.GetValue(output)!;
            string methodName = parse.GetValue(method)!;
            if (!Methods.TryGetValue(methodName, out var partitionMethod))
            {
                throw new UsageException($"--method must be one of {string.Join(", ", Methods.Keys)}, got '{methodName}'");
            }
            long partitionSeed = parse.GetValue(seed);

            var clock = Stopwatch.StartNew();
            var graph = GraphFile.Read(path);
            var partitioned = GraphPartitioner.Partition(graph, partitionMethod, partCount, partitionSeed);
            var manifest = PartitionStore.Write(directory, partitioned, Path.GetFileNameWithoutExtension(path), partitionMethod, partitionSeed);
            PartitionReport.Print(Console.Out, directory, manifest, clock.Elapsed);
            return 0;
        });
        return command;
    }
}
