using System.CommandLine;
using System.Diagnostics;
using Dtrain.Contracts;
using System.Globalization;
using Dtrain.Graph.Generators;
using Dtrain.Graph.Import;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Storage;
using Dtrain.Launcher.Options;
using static System.FormattableString;

namespace Dtrain.Launcher.Commands;

/// <summary>`dtrain graph`: preparing graphs for GNN training, one subcommand per step (`import` or `generate`, then `partition`).</summary>
public static class GraphCommand
{
    private static readonly Dictionary<string, PartitionMethod> Methods =
        Enum.GetValues<PartitionMethod>().ToDictionary(method => method.ToString().ToLowerInvariant());

    public static Command Create() => new("graph", "Prepare graphs for GNN training") { Import(), Generate(), Partition() };

    private static Command Import()
    {
        var edges = new Argument<string>("edges") { Description = "the edge list: CSV, TSV or space-separated text with two columns (source, destination; an optional header), an int64 .npy of shape (E, 2), or a graph-tool file (.gt, .gt.gz)" };
        var features = new Option<string?>("--features") { Description = "node features: a float32 .npy of shape (N, F), or text with one row of F numbers per node" };
        var identityFeatures = new Option<bool>("--identity-features") { Description = "for a graph without features: each node's features are its one-hot ID (N features)" };
        var labels = new Option<string?>("--labels") { Description = "node labels: an int64 .npy of shape (N), or text with one class number per line" };
        var labelProperty = new Option<string?>("--label-property") { Description = "node labels: the graph-tool file's vertex property that holds them (whole numbers)" };
        var trainMask = new Option<string?>("--train-mask") { Description = "the training nodes: a bool/uint8 .npy of shape (N), or text with 0 or 1 per line" };
        var validationMask = new Option<string?>("--val-mask") { Description = "the validation nodes, as --train-mask" };
        var testMask = new Option<string?>("--test-mask") { Description = "the test nodes, as --train-mask" };
        var split = new Option<string>("--split") { Description = "without masks: the train, validation and test fractions of a seeded random split", DefaultValueFactory = _ => "0.6,0.2,0.2" };
        var seed = new Option<long>("--seed") { Description = "seed of the split", DefaultValueFactory = _ => 0 };
        var nodes = new Option<int?>("--nodes") { Description = "the node count (default: the feature rows, else the labels, else the largest node id + 1)" };
        var directed = new Option<bool>("--directed") { Description = "keep each edge's direction (default: every edge both ways)" };
        var output = new Option<string>("--out") { Description = "the graph file to write", Required = true }.AcceptOutputFile();

        var command = new Command("import", "Write a dtrain graph file from an edge list, with optional node features, labels and split masks; self-loops and duplicate edges are dropped")
        {
            edges, features, identityFeatures, labels, labelProperty, trainMask, validationMask, testMask, split, seed, nodes, directed, output,
        };
        command.SetAction(parse =>
        {
            var fractions = ParseSplit(parse.GetValue(split)!);
            if (parse.GetValue(nodes) is < 1) throw new UsageException($"--nodes must be at least 1, got {parse.GetValue(nodes)}");
            var inputs = new[] { parse.GetValue(edges), parse.GetValue(features), parse.GetValue(labels), parse.GetValue(trainMask), parse.GetValue(validationMask), parse.GetValue(testMask) };
            if (inputs.OfType<string>().FirstOrDefault(file => !File.Exists(file)) is { } missing) throw new UsageException($"no such file: {missing}");
            var clock = Stopwatch.StartNew();
            ImportedGraph imported;
            try
            {
                imported = GraphImport.Read(new GraphImportOptions
                {
                    Edges = parse.GetValue(edges)!, Features = parse.GetValue(features), IdentityFeatures = parse.GetValue(identityFeatures),
                    Labels = parse.GetValue(labels), LabelProperty = parse.GetValue(labelProperty),
                    TrainMask = parse.GetValue(trainMask), ValidationMask = parse.GetValue(validationMask), TestMask = parse.GetValue(testMask),
                    Nodes = parse.GetValue(nodes), Directed = parse.GetValue(directed), Split = fractions, Seed = parse.GetValue(seed),
                });
            }
            catch (DtrainException e)
            {
                throw new UsageException(e.Message);
            }
            string path = parse.GetValue(output)!;
            var graph = imported.Graph;
            GraphFile.Write(path, graph);
            Console.WriteLine(Invariant($"{path}: {graph.NodeCount} nodes, {graph.EdgeCount} edges ({(parse.GetValue(directed) ? "directed" : "both ways")}) from {imported.EdgeRows} edge rows, ") +
                Invariant($"{graph.FeatureDim} features, {graph.ClassCount} classes, {graph.NodesIn(NodeSplit.Train).Length} training nodes, in {clock.Elapsed.TotalSeconds:F2} s"));
            return 0;
        });
        return command;
    }

    /// <summary>"train,val,test" fractions, each in [0, 1], summing to at most 1.</summary>
    private static SplitFractions ParseSplit(string text)
    {
        var parts = text.Split(',');
        var values = parts.Select(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN).ToArray();
        if (values.Length != 3 || values.Any(v => !(v is >= 0 and <= 1)) || values.Sum() > 1 + 1e-9)
        {
            throw new UsageException($"--split takes three fractions train,val,test in [0, 1] that sum to at most 1, got '{text}'");
        }
        return new SplitFractions(values[0], values[1], values[2]);
    }

    private static Command Generate()
    {
        var kind = new Argument<string>("kind") { Description = $"generator: {string.Join(", ", GraphGenerators.Kinds)}" };
        var options = new Argument<string[]>("options")
        {
            Description = "generator options as name=value, e.g. nodes=10000 homophily=0.8 (sbm) or scale=20 edges=20000000 (rmat)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var output = new Option<string>("--out") { Description = "the graph file to write", Required = true }.AcceptOutputFile();

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
            OutputPaths.Refuse(OutputPaths.DirectoryProblem("--out", directory));

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
