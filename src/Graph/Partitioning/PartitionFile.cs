using Dtrain.Contracts.Storage;
using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Partitioning;

/// <summary>
/// One <see cref="GraphPartition"/> on disk (a <see cref="ChecksummedFile"/>, magic "DTGPART1"): partition ID and
/// partition book boundaries, feature dimension, class count, then CSC offsets, in-neighbours, edge weights (empty
/// when unweighted), features, labels, split and halo nodes.
/// </summary>
public static class PartitionFile
{
    private const string Magic = "DTGPART1", Kind = "dtrain graph partition file";

    /// <returns>The file's checksum.</returns>
    public static ulong Write(string path, GraphPartition partition) => ChecksummedFile.Write(path, Magic, writer =>
    {
        writer.Write(partition.Id);
        writer.WriteArray<int>(partition.Book.Boundaries);
        writer.Write(partition.FeatureDim);
        writer.Write(partition.ClassCount);
        writer.WriteArray<int>(partition.InOffsets);
        writer.WriteArray<int>(partition.InSources);
        writer.WriteArray<float>(partition.EdgeWeights ?? []);
        writer.WriteArray<float>(partition.Features);
        writer.WriteArray<int>(partition.Labels);
        writer.WriteArray<NodeSplit>(partition.Split);
        writer.WriteArray<int>(partition.HaloNodes);
    });

    public static GraphPartition Read(string path, out ulong checksum)
    {
        using var reader = ChecksummedFile.Read(path, Magic, Kind, out checksum);
        return GraphFile.Parse(path, Kind, () =>
        {
            int id = reader.ReadInt32();
            var book = new PartitionBook(reader.ReadArray<int>("partition book"));
            if (id < 0 || id >= book.PartitionCount) throw new InvalidDataException($"partition {id} of {book.PartitionCount}");
            int featureDim = reader.ReadInt32(), classCount = reader.ReadInt32();
            var offsets = reader.ReadArray<int>("offsets");
            if (offsets.Length != book.NodeCountOf(id) + 1) throw new InvalidDataException($"{offsets.Length} offsets for {book.NodeCountOf(id)} nodes");
            var sources = reader.ReadArray<int>("in-neighbours");
            var weights = reader.ReadArray<float>("edge weights");
            return new GraphPartition
            {
                Id = id,
                Book = book,
                InOffsets = offsets,
                InSources = sources,
                EdgeWeights = weights.Length == 0 ? null : weights,
                FeatureDim = featureDim,
                Features = reader.ReadArray<float>("features"),
                ClassCount = classCount,
                Labels = reader.ReadArray<int>("labels"),
                Split = reader.ReadArray<NodeSplit>("split"),
                HaloNodes = reader.ReadArray<int>("halo nodes"),
            };
        });
    }
}
