using System.Globalization;
using System.Text;
using Dtrain.Contracts;
using Dtrain.Contracts.Storage;
using Dtrain.Graph.Import;
using Dtrain.Graph.Storage;
using Dtrain.Tests.Models.Data;

namespace Dtrain.Tests.Graph;

/// <summary>`dtrain graph import`'s reader: a graph written out as text or .npy files comes back exactly; bad files are named with the line or row.</summary>
public class GraphImportTests
{
    /// <summary>The clustered test graph (directed, unweighted) written as the files a user brings: text or NumPy.</summary>
    private static (GraphData Graph, GraphImportOptions Files) Export(TempDirectory directory, bool numpy)
    {
        var graph = TestGraphs.Clustered(seed: 3, weighted: false);
        var edges = Enumerable.Range(0, graph.NodeCount).SelectMany(v => graph.InNeighbours(v).ToArray().Select(u => (Source: (long)u, Destination: (long)v))).ToArray();
        var masks = new[] { NodeSplit.Train, NodeSplit.Validation, NodeSplit.Test }
            .Select(set => graph.Split.Select(s => s == set ? 1L : 0L).ToArray()).ToArray();
        string Name(string stem) => directory.File(stem + (numpy ? ".npy" : stem == "edges" ? ".csv" : ".txt"));
        if (numpy)
        {
            Npy.Write(Name("edges"), "<i8", [edges.Length, 2], w => { foreach (var (u, v) in edges) { w.Write(u); w.Write(v); } });
            Npy.Write(Name("features"), "<f4", [graph.NodeCount, graph.FeatureDim], w => { foreach (float f in graph.Features) w.Write(f); });
            Npy.Write(Name("labels"), "<i8", [graph.NodeCount], w => { foreach (int l in graph.Labels) w.Write((long)l); });
            foreach (var (mask, stem) in masks.Zip(new[] { "train", "val", "test" }))
            {
                Npy.Write(Name(stem), "|b1", [graph.NodeCount], w => { foreach (long m in mask) w.Write((byte)m); });
            }
        }
        else
        {
            File.WriteAllLines(Name("edges"), edges.Select(e => $"{e.Source},{e.Destination}").Prepend("src,dst"));
            File.WriteAllLines(Name("features"), Enumerable.Range(0, graph.NodeCount)
                .Select(v => string.Join(' ', graph.FeaturesOf(v).ToArray().Select(f => f.ToString("R", CultureInfo.InvariantCulture)))));
            File.WriteAllLines(Name("labels"), graph.Labels.Select(l => l.ToString(CultureInfo.InvariantCulture)).Prepend("label"));
            foreach (var (mask, stem) in masks.Zip(new[] { "train", "val", "test" }))
            {
                File.WriteAllLines(Name(stem), mask.Select(m => m == 1 ? "true" : "false"));
            }
        }
        return (graph, new GraphImportOptions
        {
            Edges = Name("edges"), Features = Name("features"), Labels = Name("labels"),
            TrainMask = Name("train"), ValidationMask = Name("val"), TestMask = Name("test"), Directed = true,
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_exported_graph_imports_exactly(bool numpy)
    {
        using var directory = new TempDirectory();
        var (graph, files) = Export(directory, numpy);

        var imported = GraphImport.Read(files);

        Assert.Equal(graph.EdgeCount, imported.EdgeRows);
        Assert.Equal(graph.InOffsets, imported.Graph.InOffsets);
        Assert.Equal(graph.InSources, imported.Graph.InSources);
        Assert.Equal(graph.Features, imported.Graph.Features);
        Assert.Equal(graph.FeatureDim, imported.Graph.FeatureDim);
        Assert.Equal(graph.Labels, imported.Graph.Labels);
        Assert.Equal(graph.ClassCount, imported.Graph.ClassCount);
        Assert.Equal(graph.Split, imported.Graph.Split);
    }

    [Fact]
    public void Undirected_import_adds_each_edge_both_ways_and_drops_self_loops_and_duplicates()
    {
        using var directory = new TempDirectory();
        string edges = directory.File("edges.tsv");
        File.WriteAllText(edges, "# a comment\n0\t1\n1\t0\n2\t2\n1\t2\n0\t1\n");
        var graph = GraphImport.Read(new GraphImportOptions { Edges = edges, Nodes = 4, Split = new(0.5, 0.25, 0.25), Seed = 3 }).Graph;
        Assert.Equal([0, 1, 3, 4, 4], graph.InOffsets);   // node 3 has no edges
        Assert.Equal([1, 0, 2, 1], graph.InSources);
        Assert.Equal(2, graph.NodesIn(NodeSplit.Train).Length);
        Assert.Equal(graph.Split, GraphImport.Read(new GraphImportOptions { Edges = edges, Nodes = 4, Split = new(0.5, 0.25, 0.25), Seed = 3 }).Graph.Split);
    }

    public static TheoryData<string, string, string> BadFiles() => new()
    {
        { "edges.csv", "0,1\n1,7\n", "edges.csv, line 2: node id 7 is outside [0, 3), the nodes of the 3 feature rows of features.txt" },
        { "edges.csv", "0,1\n-1,2\n", "edges.csv, line 2: node id -1 is negative" },
        { "edges.csv", "src,dst\n0,1\n1,2,5\n", "edges.csv, line 3: 3 fields, but the rows before have 2" },
        { "edges.csv", "0,1\n1,x\n", "edges.csv, line 2: 'x' is not a whole number" },
        { "features.txt", "1 2\n3 4\n", "features.txt: 2 feature rows for 3 nodes (--nodes)" },
        { "features.txt", "1 2\n3 NaN\n5 6\n", "features.txt, line 2, column 2: the feature is NaN" },
        { "labels.txt", "0\n1\n-2\n", "labels.txt, line 3: -2 is not a class number" },
        { "train.txt", "1\n0\n1\n", "test.txt: node 0 is already in the train mask" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_bad_file_is_named_with_its_line(string file, string content, string expected)
    {
        using var directory = new TempDirectory();
        var files = new Dictionary<string, string>
        {
            ["edges.csv"] = "0,1\n1,2\n", ["features.txt"] = "1 2\n3 4\n5 6\n", ["labels.txt"] = "0\n1\n0\n", ["train.txt"] = "0\n1\n0\n", ["test.txt"] = "1\n0\n0\n",
        };
        files[file] = content;
        foreach (var (name, text) in files) File.WriteAllText(directory.File(name), text);
        var options = new GraphImportOptions
        {
            Edges = directory.File("edges.csv"), Features = directory.File("features.txt"), Labels = directory.File("labels.txt"),
            TrainMask = directory.File("train.txt"), TestMask = directory.File("test.txt"), Nodes = file == "features.txt" && content == "1 2\n3 4\n" ? 3 : null,
        };
        var error = Assert.Throws<DtrainException>(() => GraphImport.Read(options));
        Assert.Equal(expected, error.Message.Replace(directory.Path + "/", ""));
    }

    [Fact]
    public void Npy_files_of_the_wrong_dtype_or_shape_are_refused()
    {
        using var directory = new TempDirectory();
        string edges = directory.File("edges.npy"), features = directory.File("features.npy"), text = directory.File("not.npy");
        Npy.Write(edges, "<i8", [2, 3], w => { for (int i = 0; i < 6; i++) w.Write(0L); });
        Assert.Equal($"{edges}: an edge list has shape (E, 2), got (2, 3)", Assert.Throws<DtrainException>(() => GraphImport.Read(new() { Edges = edges })).Message);
        Npy.Write(edges, "<i8", [1, 2], w => { w.Write(0L); w.Write(1L); });
        Npy.Write(features, "<f8", [2, 1], w => { w.Write(1.0); w.Write(2.0); });
        Assert.Equal($"{features}: features must have dtype <f4, got <f8", Assert.Throws<DtrainException>(() => GraphImport.Read(new() { Edges = edges, Features = features })).Message);
        File.WriteAllText(text, "0,1\n");
        Assert.Equal($"{text}: byte 0: not a .npy file (it does not start with \\x93NUMPY)", Assert.Throws<DataFormatException>(() => GraphImport.Read(new() { Edges = text })).Message);
    }

    /// <summary>The real polblogs file: graph-tool's format read whole, its leanings as labels, one-hot features; bad uses named.</summary>
    [DatasetFact("polblogs.gt.gz")]
    public void A_graph_tool_file_gives_the_graph_and_a_vertex_property_as_labels()
    {
        using var directory = new TempDirectory();
        string path = Datasets.PathOf("polblogs.gt.gz"), truncated = directory.File("truncated.gt.gz");
        var imported = GraphImport.Read(new() { Edges = path, LabelProperty = "value", IdentityFeatures = true });

        var graph = imported.Graph;
        Assert.Equal((1490, 19090L, 2, 1490), (graph.NodeCount, imported.EdgeRows, graph.ClassCount, graph.FeatureDim));
        Assert.Equal(732, graph.Labels.Count(label => label == 1)); // the conservative blogs, as the dataset's readme counts them
        Assert.Equal(Enumerable.Range(0, 1490).Select(column => column == 7 ? 1f : 0f), graph.FeaturesOf(7).ToArray());

        string Error(GraphImportOptions options) => Assert.ThrowsAny<DtrainException>(() => GraphImport.Read(options)).Message;
        Assert.Equal($"{path}: no vertex property 'nope'", Error(new() { Edges = path, LabelProperty = "nope" }));
        Assert.Equal($"{path}: vertex property 'label' holds values of type 6, not numbers", Error(new() { Edges = path, LabelProperty = "label" }));
        File.WriteAllBytes(truncated, File.ReadAllBytes(path)[..3000]);
        Assert.StartsWith($"{truncated}: not a whole graph-tool file", Error(new() { Edges = truncated }));
        string csv = directory.File("edges.csv");
        File.WriteAllLines(csv, ["0,1"]);
        Assert.Equal($"--label-property reads a vertex property of a graph-tool file (.gt, .gt.gz), and {csv} is not one", Error(new() { Edges = csv, LabelProperty = "value" }));
    }

    /// <summary>Writes a version-1 .npy file: magic, header dict padded to 64 bytes, then the elements.</summary>
    private static class Npy
    {
        public static void Write(string path, string dtype, long[] shape, Action<BinaryWriter> elements)
        {
            string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
            string header = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({dims}), }}";
            header = header.PadRight((header.Length + 10 + 1 + 63) / 64 * 64 - 10 - 1) + "\n";
            using var writer = new BinaryWriter(File.Create(path));
            writer.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
            writer.Write((ushort)header.Length);
            writer.Write(Encoding.ASCII.GetBytes(header));
            elements(writer);
        }
    }
}
