using System.Buffers;
using System.Runtime.CompilerServices;
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
/// Buffers are reused from batch to batch, so one sampler samples one batch at a time.
/// </summary>
public sealed class MiniBatchSampler
{
    private readonly PartitionBook book;
    private readonly IReadOnlyList<IPartitionSource> partitions;
    private readonly SamplingOptions options;
    private readonly FeatureFetcher features;
    private readonly NodeIndexer indexer;
    private readonly DrawnNeighbours drawn = new();
    private int[] owners = [];

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
            await SampleHopAsync(destinations, new HopRequest(options.Fanouts[hop], hopKey, options.Weighted, options.Holdout), ct);
            var block = Relabel(destinations);
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

    /// <summary>
    /// Draws the in-neighbours of every destination into <see cref="drawn"/>, in destination order. When this
    /// process owns them all (always, with one partition) they are drawn straight into it; otherwise split by owner.
    /// </summary>
    private async Task SampleHopAsync(int[] destinations, HopRequest hop, CancellationToken ct)
    {
        int soleOwner = FindOwners(destinations);
        if (soleOwner >= 0 && partitions[soleOwner] is LocalPartition local)
        {
            local.Sample(destinations, hop, drawn);
            return;
        }
        var perPartition = new List<int>?[partitions.Count];
        for (int i = 0; i < destinations.Length; i++) (perPartition[owners[i]] ??= []).Add(destinations[i]);
        var requests = new Task<SampledNeighbours>?[partitions.Count];
        for (int p = 0; p < partitions.Count; p++)
        {
            if (perPartition[p] is { } seeds) requests[p] = partitions[p].SampleAsync([.. seeds], hop, ct);
        }
        await Task.WhenAll(requests.OfType<Task<SampledNeighbours>>());
        Merge(destinations.Length, requests.Select(request => request?.Result).ToArray());
    }

    /// <summary>Fills <see cref="owners"/> (reused from hop to hop) with each destination's owner.</summary>
    /// <returns>The partition that owns all of them, or -1 when several do.</returns>
    private int FindOwners(int[] destinations)
    {
        owners = ReusedArray.AtLeast(owners, destinations.Length);
        var span = owners.AsSpan(0, destinations.Length);
        if (partitions.Count == 1)
        {
            span.Clear(); // every node was checked against the book already
            return 0;
        }
        for (int i = 0; i < destinations.Length; i++) span[i] = book.OwnerOf(destinations[i]);
        return span.ContainsAnyExcept(span[0]) ? -1 : span[0];
    }

    /// <summary>The partitions' answers, each in the order of its own destinations, interleaved back into destination order.</summary>
    private void Merge(int destinationCount, SampledNeighbours?[] answers)
    {
        var owners = this.owners.AsSpan(0, destinationCount);
        drawn.Reset(destinationCount);
        var counts = drawn.Counts;
        var seedCursor = new int[partitions.Count];
        int total = 0;
        for (int i = 0; i < owners.Length; i++)
        {
            counts[i] = answers[owners[i]]!.Counts[seedCursor[owners[i]]++];
            total = checked(total + counts[i]);
        }
        drawn.SetNeighbourCount(total);
        var neighbours = drawn.Neighbours.AsSpan();
        var neighbourCursor = new int[partitions.Count];
        int write = 0;
        for (int i = 0; i < owners.Length; i++)
        {
            int p = owners[i];
            answers[p]!.Neighbours.AsSpan(neighbourCursor[p], counts[i]).CopyTo(neighbours[write..]);
            neighbourCursor[p] += counts[i];
            write += counts[i];
        }
    }

    /// <summary>
    /// The hop's block: its sources are the destinations followed by the neighbours not among them, in order of
    /// first appearance, and its edges point at local indices.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first batch: no slow first tier
    private SampledBlock Relabel(int[] destinations)
    {
        var counts = drawn.Counts;
        var edgeSources = drawn.Neighbours;
        indexer.Reset();
        indexer.AddDistinct(destinations);
        indexer.IndexAll(edgeSources, edgeSources);
        var edgeDestinations = GC.AllocateUninitializedArray<int>(edgeSources.Length);
        for (int i = 0, edge = 0; i < destinations.Length; i++)
        {
            for (int end = edge + counts[i]; edge < end; edge++) edgeDestinations[edge] = i;
        }
        return new SampledBlock(indexer.Nodes.ToArray(), destinations.Length, edgeSources, edgeDestinations);
    }
}
