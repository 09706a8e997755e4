namespace Dtrain.Coordinator.Grains;

/// <summary>
/// Whether a worker has been silent for its heartbeat timeout, on a monotonic clock checked every period. Only
/// time in which the coordinator itself ran counts as silence: when a check comes late by more than a period, the
/// coordinator was stalled (its process starved of CPU by the workers beside it, or its grain turns queued), and
/// heartbeats that arrived meanwhile may still wait unread in its queues. That stall is not the worker's silence,
/// so a starved coordinator never declares a worker lost on its own account.
/// </summary>
public sealed class HeartbeatWatch(TimeSpan timeout, TimeSpan period, TimeSpan now)
{
    private TimeSpan heardAt = now, checkedAt = now;

    public void Heard(TimeSpan at)
    {
        if (at > heardAt) heardAt = at;
    }

    /// <summary>Checks at <paramref name="now"/>; true once the worker has been silent for the timeout.</summary>
    public bool IsLost(TimeSpan now)
    {
        var stalled = now - checkedAt - period;
        if (stalled > period) heardAt += stalled;
        checkedAt = now;
        return now - heardAt > timeout;
    }
}
