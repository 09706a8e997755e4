using Dtrain.Coordinator.Grains;

namespace Dtrain.Tests.Coordinator;

/// <summary>
/// The coordinator's measure of a worker's silence: time in which the coordinator itself was stalled (its checks came
/// late) is not the worker's silence, the rest is.
/// </summary>
public class HeartbeatWatchTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5), Period = TimeSpan.FromMilliseconds(250);

    private static TimeSpan At(double seconds) => TimeSpan.FromSeconds(seconds);

    /// <summary>Checks every period from <paramref name="from"/> to <paramref name="to"/>; the first time it found the worker lost.</summary>
    private static TimeSpan? CheckEveryPeriod(HeartbeatWatch watch, double from, double to)
    {
        for (var now = At(from); now <= At(to); now += Period)
        {
            if (watch.IsLost(now)) return now;
        }
        return null;
    }

    [Fact]
    public void A_worker_silent_for_the_timeout_is_lost_once_it_passed()
    {
        var watch = new HeartbeatWatch(Timeout, Period, At(0));
        watch.Heard(At(1.1));

        Assert.Equal(At(6.25), CheckEveryPeriod(watch, 0.25, 20));
    }

    [Fact]
    public void A_coordinator_stalled_longer_than_the_timeout_does_not_declare_its_workers_lost()
    {
        var watch = new HeartbeatWatch(Timeout, Period, At(0));
        Assert.Null(CheckEveryPeriod(watch, 0.25, 1));
        watch.Heard(At(1));

        // The coordinator runs nothing from 1 s to 9 s; its first check after that comes before the heartbeats it queued.
        Assert.False(watch.IsLost(At(9)));
        watch.Heard(At(9.1));
        Assert.Null(CheckEveryPeriod(watch, 9.25, 14));
        // Silence after the stall still counts: the worker is lost 5 s after the last heartbeat the coordinator heard.
        Assert.Equal(At(14.25), CheckEveryPeriod(watch, 14, 30));
    }
}
