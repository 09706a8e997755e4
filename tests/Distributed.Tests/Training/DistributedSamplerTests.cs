using Dtrain.Models.Data;

namespace Dtrain.Tests.Training;

public class DistributedSamplerTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void At_every_step_the_ranks_together_use_the_single_process_batch(int ranks)
    {
        const int size = 1000, batch = 8;
        var single = new DistributedSampler(size, 0, 1, batch * ranks, seed: 9);
        var shards = Enumerable.Range(0, ranks).Select(r => new DistributedSampler(size, r, ranks, batch, seed: 9)).ToArray();
        Assert.All(shards, s => Assert.Equal(single.BatchesPerEpoch, s.BatchesPerEpoch));

        // Three epochs, so reshuffling is covered too.
        for (int step = 0; step < 3 * single.BatchesPerEpoch; step++)
        {
            var together = shards.SelectMany(s => s.BatchAt(step).ToArray()).Order();
            Assert.Equal(single.BatchAt(step).ToArray().Order(), together);
        }
    }

    [Fact]
    public void Ranks_never_share_a_sample_within_an_epoch()
    {
        var shards = Enumerable.Range(0, 3).Select(r => new DistributedSampler(300, r, 3, 10, seed: 1)).ToArray();
        var used = shards.SelectMany(s => Enumerable.Range(0, s.BatchesPerEpoch).SelectMany(step => s.BatchAt(step).ToArray())).ToList();
        Assert.Equal(used.Count, used.Distinct().Count());
    }
}
