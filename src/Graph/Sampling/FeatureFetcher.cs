using Dtrain.Graph.Partitioning;
using Dtrain.Telemetry;

namespace Dtrain.Graph.Sampling;

/// <summary>
/// Gathers the feature rows of a batch's input nodes: rows this worker owns are copied from its partition, rows in
/// the remote-feature cache from there, and the rest are fetched with one request per owning partition, all
/// requests in flight together. Counts the bytes from each place.
/// </summary>
public sealed class FeatureFetcher(PartitionBook book, LocalPartition local, IReadOnlyList<IPartitionSource> partitions, FeatureCache? cache)
{
    public int FeatureDim => local.FeatureDim;

    public long LocalBytes { get; private set; }

    public long RemoteBytes { get; private set; }

    public long CachedBytes { get; private set; }

    /// <summary>Rows of <paramref name="nodes"/>, row-major, in their order.</summary>
    public async Task<float[]> FetchAsync(int[] nodes, CancellationToken ct)
    {
        int dim = FeatureDim;
        var rows = new float[(long)nodes.Length * dim];
        var missing = new List<int>?[partitions.Count]; // positions in nodes, per owner
        long localRows = 0, cachedRows = 0;
        for (int i = 0; i < nodes.Length; i++)
        {
            int node = nodes[i], owner = book.OwnerOf(node);
            var row = rows.AsSpan(i * dim, dim);
            if (owner == local.PartitionId)
            {
                local.Partition.FeaturesOf(node).CopyTo(row);
                localRows++;
            }
            else if (cache is not null && cache.TryGet(node, row))
            {
                cachedRows++;
            }
            else
            {
                (missing[owner] ??= []).Add(i);
            }
        }

        var requests = missing
            .Select((positions, owner) => positions is null ? null : partitions[owner].FetchFeaturesAsync([.. positions.Select(i => nodes[i])], ct))
            .ToArray();
        await Task.WhenAll(requests.OfType<Task<float[]>>());
        long remoteRows = 0;
        for (int owner = 0; owner < requests.Length; owner++)
        {
            if (requests[owner] is not { } request) continue;
            var fetched = request.Result;
            var positions = missing[owner]!;
            for (int k = 0; k < positions.Count; k++)
            {
                var row = fetched.AsSpan(k * dim, dim);
                row.CopyTo(rows.AsSpan(positions[k] * dim, dim));
                cache?.Add(nodes[positions[k]], row);
            }
            remoteRows += positions.Count;
        }

        long rowBytes = (long)dim * sizeof(float);
        LocalBytes += Counted(localRows * rowBytes, "local");
        CachedBytes += Counted(cachedRows * rowBytes, "cache");
        RemoteBytes += Counted(remoteRows * rowBytes, "remote");
        return rows;
    }

    private static long Counted(long bytes, string source)
    {
        DtrainMetrics.GraphFeatureBytes.WithLabels(source).Inc(bytes);
        return bytes;
    }
}
