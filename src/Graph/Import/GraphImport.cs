using System.Globalization;
using Dtrain.Contracts;
using Dtrain.Graph.Generators;
using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Import;

/// <summary>What `dtrain graph import` reads: an edge list and, optionally, node features, labels and split masks.</summary>
public sealed record GraphImportOptions
{
    /// <summary>
    /// CSV/TSV/space-separated text (two columns, source and destination), an int64 .npy of shape (E, 2), or a
    /// graph-tool file (.gt or .gt.gz), which also gives the node count.
    /// </summary>
    public required string Edges { get; init; }

    /// <summary>float32 .npy (N, F) or a text table of N rows of F numbers.</summary>
    public string? Features { get; init; }

    /// <summary>Each node's features are its one-hot ID (N features), as a graph without features is usually given them.</summary>
    public bool IdentityFeatures { get; init; }

    /// <summary>int64 .npy (N) or text, one class number per line.</summary>
    public string? Labels { get; init; }

    /// <summary>The graph-tool file's vertex property that holds the labels.</summary>
    public string? LabelProperty { get; init; }

    /// <summary>Masks of the train, validation and test nodes: bool/uint8 .npy (N) or text, 0/1 per line. Without any, <see cref="Split"/> draws them.</summary>
    public string? TrainMask { get; init; }
    public string? ValidationMask { get; init; }
    public string? TestMask { get; init; }

    /// <summary>The node count; by default the features' rows, else the labels', else the largest node id + 1.</summary>
    public int? Nodes { get; init; }

    /// <summary>Keeps each edge's direction; by default every edge is added both ways.</summary>
    public bool Directed { get; init; }

    /// <summary>The seeded split when no masks are given.</summary>
    public SplitFractions Split { get; init; } = new(0.6, 0.2, 0.2);

    public long Seed { get; init; }
}

/// <summary>The imported graph and how many edge rows were read (duplicates and self-loops are dropped from them).</summary>
public sealed record ImportedGraph(GraphData Graph, long EdgeRows);

/// <summary>
/// Reads a user's graph from common files into a <see cref="GraphData"/>, streaming: text is parsed line by line
/// and .npy arrays element by element, so memory holds the graph being built, not a copy of the input. Every bad
/// input is one <see cref="DtrainException"/> naming the file, the line or row, and the problem.
/// </summary>
public static class GraphImport
{
    public static ImportedGraph Read(GraphImportOptions options)
    {
        CheckChoices(options);
        var graphTool = GraphToolFile.IsGraphTool(options.Edges) ? GraphToolFile.Read(options.Edges, options.LabelProperty) : null;
        var features = options.Features is null ? null : ReadFeatures(options.Features);
        string? labelSource = options.LabelProperty is { } property ? $"{options.Edges}'s vertex property '{property}'" : options.Labels;
        var labels = graphTool?.Labels ?? (options.Labels is null ? null : ReadIntegers(options.Labels, "labels", value => value >= 0 && value <= int.MaxValue, "a class number"));
        var (nodes, origin) = options.Nodes is { } given ? (given, "--nodes")
            : graphTool is not null ? (graphTool.NodeCount, $"the {graphTool.NodeCount} vertices of {options.Edges}")
            : features is not null ? (features.Value.Rows, $"the {features.Value.Rows} feature rows of {options.Features}")
            : labels is not null ? (labels.Length, $"the {labels.Length} labels of {options.Labels}")
            : ((int?)null, "");
        if (nodes is { } n)
        {
            if (features is { } f && f.Rows != n) throw new DtrainException($"{options.Features}: {f.Rows} feature rows for {n} nodes ({origin})");
            if (labels is not null && labels.Length != n) throw new DtrainException($"{labelSource}: {labels.Length} labels for {n} nodes ({origin})");
        }
        var (sources, destinations, rows, largest) = graphTool is null
            ? ReadEdges(options.Edges, nodes, origin)
            : (graphTool.Sources, graphTool.Targets, graphTool.Sources.Count, graphTool.NodeCount - 1);
        int nodeCount = nodes ?? largest + 1;
        if (options.IdentityFeatures) features = Identity(nodeCount);
        var split = ReadSplit(options, nodeCount);
        var (offsets, inSources, _) = GraphBuilder.ToCsc(nodeCount, sources.ToArray(), destinations.ToArray(), undirected: !options.Directed);
        var nodeLabels = labels is null ? new int[nodeCount] : labels.Select(l => (int)l).ToArray();
        int classes = labels is null || labels.Length == 0 ? 0 : (int)labels.Max() + 1;
        var graph = new GraphData(offsets, inSources, null, features?.Dim ?? 0, features?.Values ?? [], classes, nodeLabels, split);
        return new ImportedGraph(graph, rows);
    }

    /// <summary>Options that exclude each other, or need a graph-tool file.</summary>
    private static void CheckChoices(GraphImportOptions options)
    {
        bool graphTool = GraphToolFile.IsGraphTool(options.Edges);
        if (options.LabelProperty is not null && !graphTool) throw new DtrainException($"--label-property reads a vertex property of a graph-tool file (.gt, .gt.gz), and {options.Edges} is not one");
        if (options.LabelProperty is not null && options.Labels is not null) throw new DtrainException("give the labels with --labels or with --label-property, not both");
        if (options.IdentityFeatures && options.Features is not null) throw new DtrainException("give the features with --features or with --identity-features, not both");
        if (graphTool && options.Nodes is not null) throw new DtrainException($"{options.Edges} gives the node count: --nodes does not apply");
    }

    /// <summary>One-hot rows: node v's feature v is 1.</summary>
    private static (int Rows, int Dim, float[] Values) Identity(int nodes)
    {
        const long Limit = 1L << 28; // 1 GiB of float32
        if ((long)nodes * nodes > Limit) throw new DtrainException($"--identity-features would make {nodes} x {nodes} features, more than {Limit:N0} values (1 GiB)");
        var values = new float[(long)nodes * nodes];
        for (int v = 0; v < nodes; v++) values[(long)v * nodes + v] = 1;
        return (nodes, nodes, values);
    }

    private static (List<int> Sources, List<int> Destinations, long Rows, int Largest) ReadEdges(string path, int? nodes, string origin)
    {
        var (sources, destinations) = (new List<int>(), new List<int>());
        int largest = -1;
        void Add(long source, long destination, string where)
        {
            foreach (long id in (ReadOnlySpan<long>)[source, destination])
            {
                if (id < 0) throw new DtrainException($"{path}, {where}: node id {id} is negative");
                if (nodes is { } n && id >= n) throw new DtrainException($"{path}, {where}: node id {id} is outside [0, {n}), the nodes of {origin}");
                if (id >= int.MaxValue) throw new DtrainException($"{path}, {where}: node id {id} is too large (at most {int.MaxValue - 1})");
                largest = Math.Max(largest, (int)id);
            }
            sources.Add((int)source);
            destinations.Add((int)destination);
        }

        if (TextTable.IsText(path))
        {
            foreach (var (line, fields) in TextTable.Rows(path))
            {
                if (fields.Length != 2) throw new DtrainException($"{path}, line {line}: an edge list has 2 columns (source, destination), got {fields.Length}");
                Add(Integer(fields[0], path, line), Integer(fields[1], path, line), $"line {line}");
            }
        }
        else
        {
            using var array = NpyArray.Open(path);
            array.Require(2, "an edge list", "<i8", "<i4");
            if (array.Shape[1] != 2) throw new DtrainException($"{path}: an edge list has shape (E, 2), got ({string.Join(", ", array.Shape)})");
            for (long row = 0; row < array.Shape[0]; row++) Add(array.NextInteger(), array.NextInteger(), $"row {row}");
        }
        if (sources.Count == 0 && nodes is null) throw new DtrainException($"{path}: no edges, and no features, labels or --nodes to count the nodes by");
        return (sources, destinations, sources.Count, largest);
    }

    private static (int Rows, int Dim, float[] Values)? ReadFeatures(string path)
    {
        var values = new List<float>();
        int rows = 0, dim = 0;
        void Check(float value, string where)
        {
            if (!float.IsFinite(value)) throw new DtrainException($"{path}, {where}: the feature is {value.ToString(CultureInfo.InvariantCulture)}");
            values.Add(value);
        }
        if (TextTable.IsText(path))
        {
            foreach (var (line, fields) in TextTable.Rows(path))
            {
                dim = fields.Length;
                for (int c = 0; c < fields.Length; c++)
                {
                    if (!float.TryParse(fields[c], NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
                    {
                        throw new DtrainException($"{path}, line {line}, column {c + 1}: '{fields[c]}' is not a number");
                    }
                    Check(value, $"line {line}, column {c + 1}");
                }
                rows++;
            }
        }
        else
        {
            using var array = NpyArray.Open(path);
            array.Require(2, "features", "<f4");
            (rows, dim) = ((int)array.Shape[0], (int)array.Shape[1]);
            for (long row = 0; row < rows; row++)
            {
                for (int c = 0; c < dim; c++) Check(array.NextSingle(), $"row {row}, column {c}");
            }
        }
        return (rows, dim, values.ToArray());
    }

    /// <summary>One integer per node, from a one-column text file or a 1-D integer .npy.</summary>
    private static long[] ReadIntegers(string path, string what, Func<long, bool> valid, string expected, params string[] npyTypes)
    {
        var values = new List<long>();
        void Add(long value, string where)
        {
            if (!valid(value)) throw new DtrainException($"{path}, {where}: {value} is not {expected}");
            values.Add(value);
        }
        if (TextTable.IsText(path))
        {
            foreach (var (line, fields) in TextTable.Rows(path))
            {
                if (fields.Length != 1) throw new DtrainException($"{path}, line {line}: {what} have one value per line, got {fields.Length}");
                Add(Integer(fields[0], path, line), $"line {line}");
            }
        }
        else
        {
            using var array = NpyArray.Open(path);
            array.Require(1, what, npyTypes.Length > 0 ? npyTypes : ["<i8", "<i4"]);
            for (long row = 0; row < array.Shape[0]; row++) Add(array.NextInteger(), $"row {row}");
        }
        return [.. values];
    }

    /// <summary>The masks' split, or the seeded one when no mask is given; a node in two masks is refused.</summary>
    private static NodeSplit[] ReadSplit(GraphImportOptions options, int nodes)
    {
        var masks = new (string? Path, NodeSplit Set)[]
        {
            (options.TrainMask, NodeSplit.Train), (options.ValidationMask, NodeSplit.Validation), (options.TestMask, NodeSplit.Test),
        };
        if (masks.All(m => m.Path is null)) return options.Split.Assign(nodes, options.Seed);
        var split = new NodeSplit[nodes];
        foreach (var (path, set) in masks)
        {
            if (path is null) continue;
            var mask = ReadIntegers(path, "masks", value => value is 0 or 1, "0 or 1", "|b1", "|u1", "<i8", "<i4");
            if (mask.Length != nodes) throw new DtrainException($"{path}: a mask of {mask.Length} nodes for a graph of {nodes}");
            for (int v = 0; v < nodes; v++)
            {
                if (mask[v] == 0) continue;
                if (split[v] != NodeSplit.None) throw new DtrainException($"{path}: node {v} is already in the {split[v].ToString().ToLowerInvariant()} mask");
                split[v] = set;
            }
        }
        return split;
    }

    /// <summary>A whole number; true and false (as masks are often written) count as 1 and 0.</summary>
    private static bool TryInteger(string field, out long value)
    {
        (bool parsed, value) = field switch
        {
            "true" or "True" => (true, 1L),
            "false" or "False" => (true, 0L),
            _ => (long.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number), number),
        };
        return parsed;
    }

    private static long Integer(string field, string path, int line) =>
        TryInteger(field, out long value) ? value : throw new DtrainException($"{path}, line {line}: '{field}' is not a whole number");
}
