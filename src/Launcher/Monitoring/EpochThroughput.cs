namespace Dtrain.Launcher.Monitoring;

/// <summary>
/// The job's samples per second since its epoch began, measured rank by rank. A rank reports its samples counted
/// from step 0, resumed steps included, and the ranks of a new epoch are first seen stepping at different polls: so
/// each rank's rate runs from where the launcher first saw it stepping in this epoch, never from the epoch's first
/// sighting of some other rank.
/// </summary>
public sealed class EpochThroughput
{
    private readonly Dictionary<int, (TimeSpan At, long Samples)> firstSeen = [];
    private long epoch = -1;

    /// <summary>Records the stepping ranks of <paramref name="currentEpoch"/> at <paramref name="now"/>.</summary>
    /// <returns>The job's rate: the mean rate of the ranks measured so far, times the ranks stepping; 0 until one is measured.</returns>
    public double Observe(long currentEpoch, IReadOnlyCollection<RankView> stepping, TimeSpan now)
    {
        if (currentEpoch != epoch)
        {
            firstSeen.Clear();
            epoch = currentEpoch;
        }
        var rates = new List<double>();
        foreach (var rank in stepping)
        {
            if (!firstSeen.TryGetValue(rank.Rank, out var first))
            {
                firstSeen[rank.Rank] = (now, rank.Samples);
                continue;
            }
            double seconds = (now - first.At).TotalSeconds;
            if (seconds > 0) rates.Add((rank.Samples - first.Samples) / seconds);
        }
        return rates.Count == 0 ? 0 : rates.Average() * stepping.Count;
    }
}
