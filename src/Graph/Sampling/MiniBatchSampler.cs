using System.Buffers;
using Dtrain.Contracts;
using Dtrain.Contracts.Randomness;
using Dtrain.Graph.Partitioning;
using Dtrain.Telemetry;

namespace Dtrain.Graph.Sampling;

/// <summary>
/// Samples a mini-batch across partitions the way DistDGL does. Per hop, from the seeds outwards: the hop's
/// destination nodes are split by owner, one batched request goes to each partition that owns some (the local
/// one is sampled on the thread pool while the remote ones are in flight), and the answers are merged back in
/// destination order. The block's source nodes are its destinations followed by newly seen neighbours in order
/// of first appearance, and they are the next hop's destinations. Finally the input nodes' features are fetched.
/// Every step is deterministic, so with the same keys the result does not depend on how the graph is partitioned.
/// </summary>
public sealed class MiniBatchSampler
{
    private readonly PartitionBook book;
    private readonly IReadOnlyList<IPartitionSource> partitions;
    private readonly SamplingOptions options;
    private readonly FeatureFetcher features;
    private readonly NodeIndexer indexer;

    /// <param name="book">Which partition owns which node.</param>
    /// <param name="partitions">One source per partition, indexed by partition ID: the local one and the remote ones.</param>
    /// <param name="options">Fanouts and weighting.</param>
    /// <param name="features">Fetches the input nodes' features.</param>
    public MiniBatchSampler(PartitionBook book, IReadOnlyList<IPartitionSource> partitions, SamplingOptions options, FeatureFetcher features)
    {
        if (partitions.Count != book.PartitionCount) throw new ArgumentException($"{partitions.Count} sources for {book.PartitionCount} partitions");
        (this.book, this.partitions, this.options, this.features) = (book, partitions, options, features);
        indexer = new NodeIndexer(book.NodeCount);
    }

    /// <param name="seeds">Distinct global node IDs, the output nodes of the batch.</param>
    /// <param name="batchKey">Random key of this batch; the same key gives the same sample.</param>
    /// <param name="ct">Cancels the remote requests.</param>
    public async Task<MiniBatch> SampleAsync(int[] seeds, ulong batchKey, CancellationToken ct)
    {
        CheckSeeds(seeds);
        var blocks = new SampledBlock[options.Hops];
        int[] destinations = seeds;
        for (int hop = 0; hop < options.Hops; hop++)
        {
            ulong hopKey = CounterRandom.Mix(batchKey ^ CounterRandom.Mix((ulong)hop + 1));
            var sampled = await SampleHopAsync(destinations, options.Fanouts[hop], hopKey, ct);
            var block = Relabel(destinations, sampled);
            blocks[options.Hops - 1 - hop] = block;
            destinations = block.SourceNodes;
        }
        var inputs = ArrayPool<float>.Shared.Rent(checked(destinations.Length * features.FeatureDim));
        try
        {
            await features.FetchAsync(destinations, inputs, ct);
        }
        catch
        {
            ArrayPool<float>.Shared.Return(inputs);
            throw;
        }
        DtrainMetrics.GraphSampledEdges.Inc(blocks.Sum(block => (double)block.EdgeCount));
        return new MiniBatch(seeds, blocks, inputs, features.FeatureDim);
    }

    private void CheckSeeds(int[] seeds)
    {
        if (seeds.Length == 0) throw new DtrainException("a mini-batch needs at least one seed node");
        indexer.Reset();
        foreach (int seed in seeds)
        {
            book.OwnerOf(seed); // names an unknown node ID
            indexer.IndexOf(seed, out bool added);
            if (!added) throw new DtrainException($"seed node {seed} appears twice in one mini-batch");
        }
    }

    /// <summary>The sampled in-neighbours of every destination, merged back into destination order.</summary>
    private async Task<SampledNeighbours> SampleHopAsync(int[] destinations, int fanout, ulong key, CancellationToken ct)
    {
        var owners = new int[destinations.Length];
        var perPartition = new List<int>?[partitions.Count];
        for (int i = 0; i < destinations.Length; i++)
        {
            owners[i] = book.OwnerOf(destinations[i]);
            (perPartition[owners[i]] ??= []).Add(destinations[i]);
        }
        var requests = new Task<SampledNeighbours>?[partitions.Count];
        for (int p = 0; p < partitions.Count; p++)
        {
            if (perPartition[p] is { } seeds) requests[p] = partitions[p].SampleAsync([.. seeds], new HopRequest(fanout, key, options.Weighted, options.Holdout), ct);
        }
        await Task.WhenAll(requests.OfType<Task<SampledNeighbours>>());

        var answers = requests.Select(request => request?.Result).ToArray();
        var counts = new int[destinations.Length];
        var seedCursor = new int[partitions.Count];
        var neighbourCursor = new int[partitions.Count];
        long total = 0;
        for (int i = 0; i < destinations.Length; i++)
        {
            counts[i] = answers[owners[i]]!.Counts[seedCursor[owners[i]]++];
            total += counts[i];
        }
        var neighbours = new int[total];
        int write = 0;
        for (int i = 0; i < destinations.Length; i++)
        {
            int p = owners[i];
            answers[p]!.Neighbours.AsSpan(neighbourCursor[p], counts[i]).CopyTo(neighbours.AsSpan(write));
            neighbourCursor[p] += counts[i];
            write += counts[i];
        }
        return new SampledNeighbours(counts, neighbours);
    }

    private SampledBlock Relabel(int[] destinations, SampledNeighbours sampled)
    {
        indexer.Reset();
        foreach (int node in destinations) indexer.IndexOf(node, out _);
        var newNodes = new List<int>();
        var edgeSources = new int[sampled.Neighbours.Length];
        var edgeDestinations = new int[sampled.Neighbours.Length];
        int edge = 0;
        for (int i = 0; i < destinations.Length; i++)
        {
            for (int k = 0; k < sampled.Counts[i]; k++, edge++)
            {
                int neighbour = sampled.Neighbours[edge];
                edgeSources[edge] = indexer.IndexOf(neighbour, out bool added);
                edgeDestinations[edge] = i;
                if (added) newNodes.Add(neighbour);
            }
        }
        return new SampledBlock([.. destinations, .. newNodes], destinations.Length, edgeSources, edgeDestinations);
    }
}
