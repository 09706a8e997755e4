using System.CommandLine;
using System.Diagnostics;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Storage;

namespace Dtrain.Launcher.Commands;

/// <summary>`dtrain graph`: preparing graphs for GNN training, one subcommand per step (`partition`).</summary>
public static class GraphCommand
{
    private static readonly Dictionary<string, PartitionMethod> Methods =
        Enum.GetValues<PartitionMethod>().ToDictionary(method => method.ToString().ToLowerInvariant());

    public static Command Create() => new("graph", "Prepare graphs for GNN training") { Partition() };

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
