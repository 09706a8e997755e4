using Dtrain.Contracts.Network;
using Dtrain.Contracts.Randomness;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Sampling;
using Dtrain.Graph.Service;
using Dtrain.Graph.Storage;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// What one rank of a graph job samples with, as GraphTrainer builds it: its own partition local, every other one
/// through a <see cref="RemotePartition"/>, and its training nodes shuffled once; batch i is the i-th slice of
/// them, wrapping around, with a key of its own.
/// </summary>
public sealed class SamplerRank : IDisposable
{
    private const long OrderStream = 21, SampleStream = 22;
    private readonly MiniBatchSampler sampler;
    private readonly FeatureFetcher fetcher;
    private readonly CountedPartition[] remotes;
    private readonly RemotePartition[] channels;
    private readonly int[] order;
    private readonly int batchSize, rank, ranks;
    private readonly long seed;

    /// <param name="addresses">Each partition's sampling endpoint; the rank's own is not used.</param>
    public SamplerRank(PartitionedGraph graph, int rank, IReadOnlyList<string> addresses, string token, SamplingOptions options,
        int batchSize, int cacheRows, long seed)
    {
        var partition = graph.Partitions[rank];
        var local = new LocalPartition(partition);
        channels = Enumerable.Range(0, graph.Partitions.Length).Where(p => p != rank)
            .Select(p => new RemotePartition(p, partition.FeatureDim, addresses[p], token, GrpcTls.None, TimeSpan.FromMinutes(1)))
            .ToArray();
        remotes = channels.Select(channel => new CountedPartition(channel)).ToArray();
        var sources = Enumerable.Range(0, graph.Partitions.Length)
            .Select(p => p == rank ? local : (IPartitionSource)remotes.Single(remote => remote.PartitionId == p))
            .ToArray();
        var cache = cacheRows > 0 ? new FeatureCache(cacheRows, partition.FeatureDim) : null;
        fetcher = new FeatureFetcher(graph.Book, sources, cache);
        sampler = new MiniBatchSampler(graph.Book, sources, options, fetcher);
        order = partition.NodesIn(NodeSplit.Train);
        new CounterRandom(CounterRandom.Key(seed, OrderStream, rank)).Shuffle<int>(order);
        (this.batchSize, this.rank, ranks, this.seed) = (Math.Min(batchSize, order.Length), rank, graph.Partitions.Length, seed);
    }

    public int BatchesPerEpoch => (order.Length + batchSize - 1) / batchSize;

    /// <summary>Feature bytes fetched so far: copied from the own partition, fetched from peers, read from the cache.</summary>
    public (long Local, long Remote, long Cached) FeatureBytes => (fetcher.LocalBytes, fetcher.RemoteBytes, fetcher.CachedBytes);

    public long RemoteRequests => remotes.Sum(remote => remote.Requests);

    public Task<MiniBatch> SampleAsync(int batch, CancellationToken ct)
    {
        // Positions wrap around, so every batch is full and its nodes distinct.
        var seeds = Enumerable.Range(batch * batchSize, batchSize).Select(i => order[i % order.Length]).ToArray();
        return sampler.SampleAsync(seeds, CounterRandom.Key(seed, SampleStream, (long)batch * ranks + rank), ct);
    }

    public void Dispose()
    {
        foreach (var channel in channels) channel.Dispose();
    }
}
