using Dtrain.Graph.Partitioning;
using Dtrain.Telemetry;

namespace Dtrain.Graph.Sampling;

/// <summary>
/// Gathers the feature rows of a batch's input nodes: rows of the partitions this worker holds are copied from them, rows in
/// the remote-feature cache from there, and the rest are fetched with one request per owning partition, all
/// requests in flight together while the local rows are copied. Counts the bytes from each place.
/// </summary>
/// <param name="partitions">One source per partition, indexed by partition ID: those held here are <see cref="LocalPartition"/>s.</param>
public sealed class FeatureFetcher(PartitionBook book, IReadOnlyList<IPartitionSource> partitions, FeatureCache? cache)
{
    /// <summary>Rows per parallel chunk of local copies.</summary>
    private const int ChunkSize = 4096;

    public int FeatureDim => partitions[0].FeatureDim;

    public long LocalBytes { get; private set; }

    public long RemoteBytes { get; private set; }

    public long CachedBytes { get; private set; }

    /// <summary>Writes the rows of <paramref name="nodes"/>, row-major, in their order, to the start of <paramref name="rows"/>.</summary>
    public async Task FetchAsync(int[] nodes, float[] rows, CancellationToken ct)
    {
        int dim = FeatureDim;
        if (rows.Length < (long)nodes.Length * dim) throw new ArgumentException($"{rows.Length} floats cannot hold {nodes.Length} rows of {dim}");
        var owners = new int[nodes.Length];
        long localRows = 0, cachedRows = 0;
        for (int i = 0; i < nodes.Length; i++)
        {
            owners[i] = book.OwnerOf(nodes[i]);
            if (partitions[owners[i]] is LocalPartition) localRows++;
        }

        var missing = new List<int>?[partitions.Count]; // positions in nodes, per owner
        for (int i = 0; i < nodes.Length; i++)
        {
            int owner = owners[i];
            if (partitions[owner] is LocalPartition) continue;
            if (cache is not null && cache.TryGet(nodes[i], rows.AsSpan(i * dim, dim))) cachedRows++;
            else (missing[owner] ??= []).Add(i);
        }

        var requests = missing
            .Select((positions, owner) => positions is null ? null : partitions[owner].FetchFeaturesAsync([.. positions.Select(i => nodes[i])], ct))
            .ToArray();
        CopyLocalRows(nodes, owners, rows); // while the remote requests are in flight
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
    }

    /// <summary>
    /// Local rows are most of a batch and each is a likely cache miss in a large feature array, so chunks of them are
    /// copied in parallel to keep more misses in flight. Each row has its own slot, so the result does not depend on scheduling.
    /// </summary>
    private void CopyLocalRows(int[] nodes, int[] owners, float[] rows)
    {
        int dim = FeatureDim;
        Parallel.For(0, (nodes.Length + ChunkSize - 1) / ChunkSize, chunk =>
        {
            int end = Math.Min(nodes.Length, (chunk + 1) * ChunkSize);
            for (int i = chunk * ChunkSize; i < end; i++)
            {
                if (partitions[owners[i]] is LocalPartition local) local.Partition.FeaturesOf(nodes[i]).CopyTo(rows.AsSpan(i * dim, dim));
            }
        });
    }

    private static long Counted(long bytes, string source)
    {
        DtrainMetrics.GraphFeatureBytes.WithLabels(source).Inc(bytes);
        return bytes;
    }
}
