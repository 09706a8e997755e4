using Dtrain.Launcher.Monitoring;

namespace Dtrain.Tests.Launcher;

/// <summary>The launcher's samples/s after a restart: ranks count samples from step 0 and appear at different polls.</summary>
public class EpochThroughputTests
{
    private const int BatchPerRank = 32;

    private static RankView Rank(int rank, int step) => new(rank, step, 1.0, (long)step * BatchPerRank, DateTime.UnixEpoch);

    [Fact]
    public void A_resumed_epoch_whose_ranks_start_stepping_at_different_polls_shows_their_real_rate()
    {
        var throughput = new EpochThroughput();
        // Epoch 1 from step 0: both ranks one step per 0.2 s, so 2 x 32 / 0.2 = 320 samples/s.
        Assert.Equal(0, throughput.Observe(1, [Rank(0, 1), Rank(1, 1)], TimeSpan.FromSeconds(0)));
        Assert.Equal(320, throughput.Observe(1, [Rank(0, 2), Rank(1, 2)], TimeSpan.FromSeconds(0.2)), 6);

        // Epoch 2 resumes at step 600: rank 1 is first seen stepping a poll after rank 0, with 601 steps' samples.
        var rates = new[]
        {
            throughput.Observe(2, [Rank(0, 601)], TimeSpan.FromSeconds(10.0)),
            throughput.Observe(2, [Rank(0, 602), Rank(1, 601)], TimeSpan.FromSeconds(10.2)),
            throughput.Observe(2, [Rank(0, 603), Rank(1, 602)], TimeSpan.FromSeconds(10.4)),
            throughput.Observe(2, [Rank(0, 604), Rank(1, 603)], TimeSpan.FromSeconds(10.6)),
        };
        Assert.Equal(0, rates[0]);
        Assert.All(rates[1..], rate => Assert.Equal(320, rate, 6));
    }
}
