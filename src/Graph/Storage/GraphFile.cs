using Dtrain.Contracts.Storage;
using Dtrain.Contracts;

namespace Dtrain.Graph.Storage;

/// <summary>
/// A whole graph on disk (a <see cref="ChecksummedFile"/>, magic "DTGRAPH1"): node count, feature dimension,
/// class count, then CSC offsets, in-neighbours, edge weights (empty when unweighted), features, labels, split.
/// </summary>
public static class GraphFile
{
    private const string Magic = "DTGRAPH1", Kind = "dtrain graph file";

    public static void Write(string path, GraphData graph) => ChecksummedFile.Write(path, Magic, writer =>
    {
        writer.Write(graph.FeatureDim);
        writer.Write(graph.ClassCount);
        writer.WriteArray<int>(graph.InOffsets);
        writer.WriteArray<int>(graph.InSources);
        writer.WriteArray<float>(graph.EdgeWeights ?? []);
        writer.WriteArray<float>(graph.Features);
        writer.WriteArray<int>(graph.Labels);
        writer.WriteArray<NodeSplit>(graph.Split);
    });

    public static GraphData Read(string path)
    {
        using var reader = ChecksummedFile.Read(path, Magic, Kind);
        return Parse(path, Kind, () =>
        {
            int featureDim = reader.ReadInt32(), classCount = reader.ReadInt32();
            var offsets = reader.ReadArray<int>("offsets");
            var sources = reader.ReadArray<int>("in-neighbours");
            var weights = reader.ReadArray<float>("edge weights");
            var features = reader.ReadArray<float>("features");
            var labels = reader.ReadArray<int>("labels");
            var split = reader.ReadArray<NodeSplit>("split");
            return new GraphData(offsets, sources, weights.Length == 0 ? null : weights,
                featureDim, features, classCount, labels, split);
        });
    }

    /// <summary>Runs a parser over a verified payload; a layout that still does not parse is reported against the file.</summary>
    internal static T Parse<T>(string path, string kind, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new DtrainException($"{kind} {path} has an unexpected layout: {e.Message}");
        }
        catch (DtrainException e)
        {
            throw new DtrainException($"{kind} {path}: {e.Message}");
        }
    }
}
