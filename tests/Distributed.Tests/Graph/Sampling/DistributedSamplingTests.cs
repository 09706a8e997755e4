using Dtrain.Contracts;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Sampling;

namespace Dtrain.Tests.Graph.Sampling;

/// <summary>
/// Sampling across partitions, each behind a real gRPC sampling service, against the single-partition oracle: the
/// whole relabelled graph in one partition, sampled with the same keys. They must agree exactly: the same blocks
/// in the same order and the same features.
/// </summary>
public class DistributedSamplingTests
{
    public static TheoryData<int, PartitionMethod> Splits => new()
    {
        { 2, PartitionMethod.Metis },
        { 3, PartitionMethod.Random },
    };

    [Theory]
    [MemberData(nameof(Splits))]
    public async Task Distributed_sampling_equals_single_partition_sampling(int parts, PartitionMethod method)
    {
        var partitioned = GraphPartitioner.Partition(TestGraphs.Clustered(), method, parts, seed: 11);
        var oracleGraph = GraphPartitioner.Partition(partitioned.Relabelled, PartitionMethod.Random, 1, seed: 0);
        var options = new SamplingOptions([10, 5, 3]);
        var oracleLocal = new LocalPartition(oracleGraph.Partitions[0]);
        var oracle = new MiniBatchSampler(oracleGraph.Book, [oracleLocal], options, new FeatureFetcher(oracleGraph.Book, [oracleLocal], null));

        await using var cluster = await SamplingCluster.StartAsync(partitioned);
        for (int rank = 0; rank < parts; rank++)
        {
            var sampler = cluster.SamplerOf(rank, options, new FeatureCache(64, partitioned.Relabelled.FeatureDim));
            for (int batch = 0; batch < 3; batch++)
            {
                // Seeds from every partition, so every hop has remote and local work.
                var seeds = MiniBatchSamplerTests.Seeds(partitioned.Book.NodeCount, 48, seed: 100 * rank + batch);
                ulong key = (ulong)(1000 + batch);
                using var expected = await oracle.SampleAsync(seeds, key, default);
                using var actual = await sampler.SampleAsync(seeds, key, default);
                AssertSameBatch(expected, actual);
            }
        }
    }

    private static void AssertSameBatch(MiniBatch expected, MiniBatch actual)
    {
        Assert.Equal(expected.Blocks.Count, actual.Blocks.Count);
        for (int i = 0; i < expected.Blocks.Count; i++)
        {
            Assert.Equal(expected.Blocks[i].SourceNodes, actual.Blocks[i].SourceNodes);
            Assert.Equal(expected.Blocks[i].DestinationCount, actual.Blocks[i].DestinationCount);
            Assert.Equal(expected.Blocks[i].EdgeSources, actual.Blocks[i].EdgeSources);
            Assert.Equal(expected.Blocks[i].EdgeDestinations, actual.Blocks[i].EdgeDestinations);
        }
        Assert.Equal(expected.InputFeatures.ToArray(), actual.InputFeatures.ToArray());
    }

    [Fact]
    public async Task The_remote_feature_cache_serves_repeated_nodes_and_fetches_fewer_bytes()
    {
        var partitioned = GraphPartitioner.Partition(TestGraphs.Clustered(), PartitionMethod.Metis, 2, seed: 11);
        await using var cluster = await SamplingCluster.StartAsync(partitioned);
        var options = new SamplingOptions([10, 5]);
        var cache = new FeatureCache(10_000, partitioned.Relabelled.FeatureDim);
        var withCache = cluster.SamplerOf(0, options, cache);
        var seeds = MiniBatchSamplerTests.Seeds(partitioned.Book.NodeCount, 64, seed: 3);

        using var first = await withCache.SampleAsync(seeds, 5, default);
        using var second = await withCache.SampleAsync(seeds, 5, default);

        Assert.Equal(first.InputFeatures.ToArray(), second.InputFeatures.ToArray());
        Assert.True(cache.Hits > 0, "the second batch should hit the cache");
        int remoteInputs = first.InputNodes.Count(node => partitioned.Book.OwnerOf(node) != 0);
        Assert.Equal(remoteInputs, cache.Hits);
    }

    /// <summary>An epoch that ends cancels the calls its sampling has in flight: the worker leaves the epoch, as for a cancelled collective.</summary>
    [Fact]
    public async Task A_remote_call_cancelled_by_its_worker_is_a_cancellation_not_a_failure()
    {
        var partitioned = GraphPartitioner.Partition(TestGraphs.Clustered(), PartitionMethod.Metis, 2, seed: 11);
        await using var cluster = await SamplingCluster.StartAsync(partitioned);
        var remote = cluster.Remote(1);
        int owned = partitioned.Book.FirstNode(1);
        using var epochEnded = new CancellationTokenSource();
        epochEnded.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => remote.SampleAsync([owned], new HopRequest(5, 1), epochEnded.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => remote.FetchFeaturesAsync([owned], epochEnded.Token));
    }

    [Fact]
    public async Task A_remote_partition_names_bad_requests()
    {
        var partitioned = GraphPartitioner.Partition(TestGraphs.Clustered(), PartitionMethod.Metis, 2, seed: 11);
        await using var cluster = await SamplingCluster.StartAsync(partitioned);
        var remote = cluster.Remote(1);
        int notOwned = partitioned.Book.FirstNode(0);

        var unowned = await Assert.ThrowsAsync<DtrainException>(() => remote.SampleAsync([notOwned], new HopRequest(5, 1), default));
        Assert.Contains($"node {notOwned} is not owned by partition 1", unowned.Message);
        var fanout = await Assert.ThrowsAsync<DtrainException>(() => remote.SampleAsync([partitioned.Book.FirstNode(1)], new HopRequest(0, 1), default));
        Assert.Contains("fanout must be positive, got 0", fanout.Message);
        var features = await Assert.ThrowsAsync<DtrainException>(() => remote.FetchFeaturesAsync([notOwned], default));
        Assert.Contains($"node {notOwned} is not owned by partition 1", features.Message);
        var stranger = await Assert.ThrowsAsync<DtrainException>(() => cluster.Remote(1, token: "wrong").SampleAsync([partitioned.Book.FirstNode(1)], new HopRequest(5, 1), default));
        Assert.Contains("does not hold the job's token", stranger.Message);
    }
}
