using System.Runtime.CompilerServices;
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

    /// <summary>How many rows ahead the local copy prefetches.</summary>
    private const int Lookahead = 8;

    /// <summary>Per partition ID, the partition if this worker holds it, else null.</summary>
    private readonly LocalPartition?[] held = [.. partitions.Select(source => source as LocalPartition)];

    private int[] owners = [];

    public int FeatureDim => partitions[0].FeatureDim;

    public long LocalBytes { get; private set; }

    public long RemoteBytes { get; private set; }

    public long CachedBytes { get; private set; }

    /// <summary>Writes the rows of <paramref name="nodes"/>, row-major, in their order, to the start of <paramref name="rows"/>.</summary>
    public async Task FetchAsync(int[] nodes, float[] rows, CancellationToken ct)
    {
        int dim = FeatureDim;
        if (rows.Length < (long)nodes.Length * dim) throw new ArgumentException($"{rows.Length} floats cannot hold {nodes.Length} rows of {dim}");
        owners = ReusedArray.AtLeast(owners, nodes.Length);
        long localRows = FindOwners(nodes), cachedRows = 0;

        var missing = new List<int>?[partitions.Count]; // positions in nodes, per owner
        if (localRows < nodes.Length)
        {
            for (int i = 0; i < nodes.Length; i++)
            {
                int owner = owners[i];
                if (held[owner] is not null) continue;
                if (cache is not null && cache.TryGet(nodes[i], rows.AsSpan(i * dim, dim))) cachedRows++;
                else (missing[owner] ??= []).Add(i);
            }
        }

        var requests = missing
            .Select((positions, owner) => positions is null ? null : partitions[owner].FetchFeaturesAsync([.. positions.Select(i => nodes[i])], ct))
            .ToArray();
        CopyLocalRows(nodes, rows); // while the remote requests are in flight
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

    /// <summary>Fills <see cref="owners"/> (reused from batch to batch) with each node's owner.</summary>
    /// <returns>How many nodes belong to partitions this worker holds.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first batch: no slow first tier
    private int FindOwners(int[] nodes)
    {
        var span = owners.AsSpan(0, nodes.Length);
        if (book.PartitionCount == 1)
        {
            foreach (int node in nodes)
            {
                if ((uint)node >= (uint)book.NodeCount) book.OwnerOf(node); // names the unknown node
            }
            span.Clear();
            return held[0] is null ? 0 : nodes.Length;
        }
        int localRows = 0;
        for (int i = 0; i < nodes.Length; i++)
        {
            span[i] = book.OwnerOf(nodes[i]);
            if (held[span[i]] is not null) localRows++;
        }
        return localRows;
    }

    /// <summary>
    /// Local rows are most of a batch and each is a likely cache miss in a large feature array, so chunks of them are
    /// copied in parallel to keep more misses in flight. Each row has its own slot, so the result does not depend on scheduling.
    /// </summary>
    private void CopyLocalRows(int[] nodes, float[] rows)
    {
        int dim = FeatureDim;
        Parallel.For(0, (nodes.Length + ChunkSize - 1) / ChunkSize, chunk =>
        {
            int first = chunk * ChunkSize, end = Math.Min(nodes.Length, first + ChunkSize);
            CopyLocalRows(nodes.AsSpan(first..end), owners.AsSpan(first..end), rows.AsSpan(first * dim, (end - first) * dim));
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CopyLocalRows(ReadOnlySpan<int> nodes, ReadOnlySpan<int> owners, Span<float> rows)
    {
        int dim = FeatureDim;
        for (int i = 0; i < nodes.Length; i++)
        {
            if (i + Lookahead < nodes.Length && held[owners[i + Lookahead]] is { } ahead) PrefetchRow(ahead.Partition.FeaturesOf(nodes[i + Lookahead]));
            if (held[owners[i]] is { } local) local.Partition.FeaturesOf(nodes[i]).CopyTo(rows.Slice(i * dim, dim));
        }
    }

    /// <summary>Every cache line of a row: 16 floats apart, and the last, as a row need not start on a line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRow(ReadOnlySpan<float> row)
    {
        for (int k = 0; k < row.Length; k += 16) CachePrefetch.Read(in row[k]);
        if (!row.IsEmpty) CachePrefetch.Read(in row[^1]);
    }

    private static long Counted(long bytes, string source)
    {
        DtrainMetrics.GraphFeatureBytes.WithLabels(source).Inc(bytes);
        return bytes;
    }
}
