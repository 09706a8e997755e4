using Dtrain.Graph.Sampling;

namespace Dtrain.Tests.Graph.Sampling;

public class FeatureCacheTests
{
    [Fact]
    public void The_least_recently_used_row_is_evicted()
    {
        var cache = new FeatureCache(capacity: 2, featureDim: 3);
        var row = new float[3];
        cache.Add(10, [1, 2, 3]);
        cache.Add(20, [4, 5, 6]);
        Assert.True(cache.TryGet(10, row)); // 20 is now the least recently used
        cache.Add(30, [7, 8, 9]);

        Assert.False(cache.TryGet(20, row));
        Assert.True(cache.TryGet(10, row));
        Assert.Equal([1f, 2, 3], row);
        Assert.True(cache.TryGet(30, row));
        Assert.Equal([7f, 8, 9], row);
        Assert.Equal(2, cache.Count);
        Assert.Equal((3L, 1L), (cache.Hits, cache.Misses));
    }

    [Fact]
    public void Adding_a_cached_node_again_replaces_its_row_and_keeps_the_count()
    {
        var cache = new FeatureCache(capacity: 3, featureDim: 2);
        cache.Add(1, [0.5f, -1]);
        cache.Add(1, [2, 3]);
        var row = new float[2];
        Assert.True(cache.TryGet(1, row));
        Assert.Equal([2f, 3], row);
        Assert.Equal(1, cache.Count);
    }
}
