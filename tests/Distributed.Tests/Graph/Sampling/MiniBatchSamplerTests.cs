using Dtrain.Contracts;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Sampling;
using Dtrain.Graph.Storage;

namespace Dtrain.Tests.Graph.Sampling;

/// <summary>Mini-batches on one partition: blocks that are real sampled subgraphs, the right features, clear errors.</summary>
public class MiniBatchSamplerTests
{
    private static readonly PartitionedGraph Whole = GraphPartitioner.Partition(TestGraphs.Clustered(), PartitionMethod.Random, 1, seed: 3);

    private static MiniBatchSampler SamplerOf(PartitionedGraph graph, SamplingOptions options)
    {
        var local = new LocalPartition(graph.Partitions[0]);
        return new MiniBatchSampler(graph.Book, [local], options, new FeatureFetcher(graph.Book, [local], cache: null));
    }

    /// <summary>Distinct random nodes.</summary>
    internal static int[] Seeds(int nodeCount, int count, int seed)
    {
        var all = Enumerable.Range(0, nodeCount).ToArray();
        new Random(seed).Shuffle(all);
        return all[..count];
    }

    private static int[] Seeds(int count, int seed) => Seeds(Whole.Book.NodeCount, count, seed);

    [Theory]
    [InlineData(new[] { 5 })]
    [InlineData(new[] { 10, 5 })]
    [InlineData(new[] { 15, 10, 5 })]
    public async Task Every_block_is_a_sampled_subgraph_with_its_destinations_first(int[] fanouts)
    {
        var graph = Whole.Relabelled;
        var sampler = SamplerOf(Whole, new SamplingOptions(fanouts));
        var seeds = Seeds(64, seed: fanouts.Length);
        using var batch = await sampler.SampleAsync(seeds, batchKey: 42, default);

        Assert.Equal(fanouts.Length, batch.Blocks.Count);
        Assert.Equal(seeds, batch.Blocks[^1].SourceNodes[..batch.Blocks[^1].DestinationCount]);
        for (int layer = 0; layer < batch.Blocks.Count; layer++)
        {
            var block = batch.Blocks[layer];
            int fanout = fanouts[batch.Blocks.Count - 1 - layer];
            Assert.Equal(block.SourceNodes.Length, block.SourceNodes.Distinct().Count());
            // The next layer's inputs are this layer's destinations.
            if (layer + 1 < batch.Blocks.Count) Assert.Equal(batch.Blocks[layer + 1].SourceNodes, block.SourceNodes[..block.DestinationCount]);
            var perDestination = new Dictionary<int, List<int>>();
            for (int e = 0; e < block.EdgeCount; e++)
            {
                int source = block.SourceNodes[block.EdgeSources[e]], destination = block.SourceNodes[block.EdgeDestinations[e]];
                Assert.True(block.EdgeDestinations[e] < block.DestinationCount);
                Assert.True(graph.InNeighbours(destination).Contains(source), $"{source} -> {destination} is not an edge");
                (perDestination.TryGetValue(destination, out var list) ? list : perDestination[destination] = []).Add(source);
            }
            for (int d = 0; d < block.DestinationCount; d++)
            {
                int node = block.SourceNodes[d];
                var sampled = perDestination.GetValueOrDefault(node) ?? [];
                Assert.Equal(Math.Min(fanout, graph.InDegree(node)), sampled.Count);
                Assert.Equal(sampled.Count, sampled.Distinct().Count());
            }
        }
        var expectedFeatures = batch.InputNodes.SelectMany(node => graph.FeaturesOf(node).ToArray()).ToArray();
        Assert.Equal(expectedFeatures, batch.InputFeatures.ToArray());
    }

    [Fact]
    public async Task The_same_key_gives_the_same_batch_and_another_key_another()
    {
        var sampler = SamplerOf(Whole, new SamplingOptions([10, 5]));
        var seeds = Seeds(32, seed: 5);
        using var first = await sampler.SampleAsync(seeds, 7, default);
        using var again = await sampler.SampleAsync(seeds, 7, default);
        using var other = await sampler.SampleAsync(seeds, 8, default);
        Assert.Equal(first.InputNodes, again.InputNodes);
        Assert.Equal(first.Blocks[0].EdgeSources, again.Blocks[0].EdgeSources);
        Assert.NotEqual(first.InputNodes, other.InputNodes);
    }

    [Fact]
    public async Task Weighted_sampling_takes_real_edges_of_positive_weight()
    {
        var graph = Whole.Relabelled;
        var sampler = SamplerOf(Whole, new SamplingOptions([3], weighted: true));
        using var batch = await sampler.SampleAsync(Seeds(200, seed: 6), 11, default);
        var block = batch.Blocks[0];
        for (int e = 0; e < block.EdgeCount; e++)
        {
            int source = block.SourceNodes[block.EdgeSources[e]], destination = block.SourceNodes[block.EdgeDestinations[e]];
            int index = graph.InNeighbours(destination).IndexOf(source);
            Assert.True(graph.EdgeWeights![graph.InOffsets[destination] + index] > 0);
        }
    }

    [Fact]
    public async Task Held_out_edges_are_never_sampled_and_the_rest_still_are()
    {
        var graph = Whole.Relabelled;
        var holdout = new EdgeHoldout(key: 77, fraction: 0.3);
        var sampler = SamplerOf(Whole, new SamplingOptions([4, 4], holdout: holdout));
        using var batch = await sampler.SampleAsync(Seeds(300, seed: 8), 13, default);
        foreach (var block in batch.Blocks)
        {
            for (int e = 0; e < block.EdgeCount; e++)
            {
                int source = block.SourceNodes[block.EdgeSources[e]], destination = block.SourceNodes[block.EdgeDestinations[e]];
                Assert.False(holdout.IsHeldOut(source, destination), $"held-out edge {source} -> {destination} was sampled");
            }
            for (int d = 0; d < block.DestinationCount; d++)
            {
                int node = block.SourceNodes[d];
                int kept = 0;
                foreach (int u in graph.InNeighbours(node)) if (!holdout.IsHeldOut(u, node)) kept++;
                Assert.Equal(Math.Min(4, kept), block.EdgeDestinations.Count(destination => destination == d));
            }
        }
        // About the requested share of pairs is held out, the same for both directions.
        int pairs = 0, heldOut = 0;
        for (int v = 0; v < graph.NodeCount; v++)
        {
            foreach (int u in graph.InNeighbours(v))
            {
                pairs++;
                if (holdout.IsHeldOut(u, v)) heldOut++;
                Assert.Equal(holdout.IsHeldOut(u, v), holdout.IsHeldOut(v, u));
            }
        }
        Assert.InRange((double)heldOut / pairs, 0.27, 0.33);
    }

    [Fact]
    public async Task Bad_requests_are_named()
    {
        var sampler = SamplerOf(Whole, new SamplingOptions([5]));
        int nodes = Whole.Book.NodeCount;
        var unknown = await Assert.ThrowsAsync<DtrainException>(() => sampler.SampleAsync([1, nodes + 5], 1, default));
        Assert.Equal($"unknown node ID {nodes + 5}: the graph has nodes 0 to {nodes - 1}", unknown.Message);
        var negative = await Assert.ThrowsAsync<DtrainException>(() => sampler.SampleAsync([-1], 1, default));
        Assert.StartsWith("unknown node ID -1", negative.Message);
        var twice = await Assert.ThrowsAsync<DtrainException>(() => sampler.SampleAsync([4, 9, 4], 1, default));
        Assert.Equal("seed node 4 appears twice in one mini-batch", twice.Message);
        var fanout = Assert.Throws<DtrainException>(() => new SamplingOptions([10, 0]));
        Assert.Equal("every fanout must be positive, got 10,0", fanout.Message);
        Assert.Throws<DtrainException>(() => new SamplingOptions([]));
        var local = new LocalPartition(Whole.Partitions[0]);
        Assert.Equal("fanout must be positive, got -3", Assert.Throws<DtrainException>(() => local.Sample([1], new HopRequest(-3, 0))).Message);
    }
}
