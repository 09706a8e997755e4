using System.IO.Compression;
using System.Text;
using Dtrain.Contracts;

namespace Dtrain.Graph.Import;

/// <summary>
/// A graph in graph-tool's binary format (`.gt`, or gzipped `.gt.gz`), as graph-tool and the Netzschleuder
/// network catalogue publish graphs, and as Debian's python3-graph-tool ships its collection: a magic, the
/// vertex count, each vertex's out-neighbours, then typed graph, vertex and edge properties. Only little-endian
/// files are read; one vertex property may be read as class labels.
/// </summary>
public sealed class GraphToolFile
{
    private static readonly byte[] Magic = [0xe2, 0x9b, 0xbe, (byte)' ', (byte)'g', (byte)'t'];
    private static readonly int[] ScalarSizes = [1, 2, 4, 8, 8, 16]; // bool, int16, int32, int64, double, long double
    private const byte DoubleType = 4;

    private GraphToolFile(int nodeCount, List<int> sources, List<int> targets, long[]? labels) =>
        (NodeCount, Sources, Targets, Labels) = (nodeCount, sources, targets, labels);

    public int NodeCount { get; }

    /// <summary>The edges' sources and targets, in the file's order.</summary>
    public List<int> Sources { get; }

    public List<int> Targets { get; }

    /// <summary>The label property's values, one per vertex; null when none was asked for.</summary>
    public long[]? Labels { get; }

    public static bool IsGraphTool(string path) => path.EndsWith(".gt", StringComparison.Ordinal) || path.EndsWith(".gt.gz", StringComparison.Ordinal);

    /// <param name="labelProperty">The vertex property holding each vertex's class (whole numbers, of any integer or double type); null for none.</param>
    public static GraphToolFile Read(string path, string? labelProperty)
    {
        try
        {
            using var stream = new BufferedStream(File.OpenRead(path), 1 << 16);
            using var reader = new BinaryReader(path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(stream, CompressionMode.Decompress) : stream);
            return Read(reader, path, labelProperty);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or OverflowException)
        {
            throw new DtrainException($"{path}: not a whole graph-tool file ({e.Message})");
        }
    }

    private static GraphToolFile Read(BinaryReader reader, string path, string? labelProperty)
    {
        if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new DtrainException($"{path}: not a graph-tool file (no '\u26fe gt' magic)");
        reader.ReadByte(); // format version
        if (reader.ReadByte() != 0) throw new DtrainException($"{path}: a big-endian graph-tool file, which dtrain does not read");
        ReadString(reader); // comment
        reader.ReadByte(); // directed; the import's --directed decides
        ulong vertices = reader.ReadUInt64();
        if (vertices >= int.MaxValue) throw new DtrainException($"{path}: {vertices} vertices, more than dtrain's graphs hold");
        int nodes = (int)vertices;
        var (sources, targets) = (new List<int>(), new List<int>());
        for (int source = 0; source < nodes; source++)
        {
            for (ulong k = reader.ReadUInt64(); k > 0; k--)
            {
                ulong target = ReadIndex(reader, vertices);
                if (target >= vertices) throw new DtrainException($"{path}: vertex {source} links to vertex {target}, outside [0, {nodes})");
                sources.Add(source);
                targets.Add((int)target);
            }
        }
        long[]? labels = null;
        for (ulong property = reader.ReadUInt64(); property > 0; property--)
        {
            byte kind = reader.ReadByte();
            string name = ReadString(reader);
            byte type = reader.ReadByte();
            long values = kind switch { 0 => 1, 1 => nodes, 2 => sources.Count, _ => throw new DtrainException($"{path}: property '{name}' has unknown kind {kind}") };
            if (kind == 1 && name == labelProperty)
            {
                labels = ReadLabels(reader, type, nodes, path, name);
                continue;
            }
            for (long i = 0; i < values; i++) SkipValue(reader, type, path);
        }
        if (labelProperty is not null && labels is null) throw new DtrainException($"{path}: no vertex property '{labelProperty}'");
        return new GraphToolFile(nodes, sources, targets, labels);
    }

    /// <summary>Vertex indices are as wide as the vertex count needs: 1, 2, 4 or 8 bytes.</summary>
    private static ulong ReadIndex(BinaryReader reader, ulong vertices) => vertices switch
    {
        <= 1UL << 8 => reader.ReadByte(),
        <= 1UL << 16 => reader.ReadUInt16(),
        <= 1UL << 32 => reader.ReadUInt32(),
        _ => reader.ReadUInt64(),
    };

    private static long[] ReadLabels(BinaryReader reader, byte type, int nodes, string path, string name)
    {
        var labels = new long[nodes];
        for (int v = 0; v < nodes; v++)
        {
            double value = type switch
            {
                0 => reader.ReadByte(),
                1 => reader.ReadInt16(),
                2 => reader.ReadInt32(),
                3 => reader.ReadInt64(),
                DoubleType => reader.ReadDouble(),
                _ => throw new DtrainException($"{path}: vertex property '{name}' holds values of type {type}, not numbers"),
            };
            if (!(value >= 0 && value <= int.MaxValue && value == Math.Floor(value)))
            {
                throw new DtrainException($"{path}: vertex {v}'s '{name}' is {value}, not a class number");
            }
            labels[v] = (long)value;
        }
        return labels;
    }

    private static string ReadString(BinaryReader reader) => Encoding.UTF8.GetString(reader.ReadBytes(checked((int)reader.ReadUInt64())));

    /// <summary>Types 0-5 are scalars; 6 a string; 7-12 vectors of the scalars; 13 a vector of strings; 14 a pickled Python object, stored as a string.</summary>
    private static void SkipValue(BinaryReader reader, byte type, string path)
    {
        if (type < 6) reader.ReadBytes(ScalarSizes[type]);
        else if (type is 6 or 14) ReadString(reader);
        else if (type < 13) reader.ReadBytes(checked((int)reader.ReadUInt64() * ScalarSizes[type - 7]));
        else if (type == 13) for (ulong n = reader.ReadUInt64(); n > 0; n--) ReadString(reader);
        else throw new DtrainException($"{path}: a property value of unknown type {type}");
    }
}
