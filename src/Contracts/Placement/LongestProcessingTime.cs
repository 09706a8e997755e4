namespace Dtrain.Contracts.Placement;

/// <summary>
/// Greedy longest-processing-time placement of work on ranks: items are taken by cost, largest first (ties by
/// index, so every caller computes the same answer), and each goes to the rank with the least load so far (ties
/// to the lowest rank).
/// </summary>
public static class LongestProcessingTime
{
    /// <summary>The owning rank of each item, indexed like <paramref name="costs"/>.</summary>
    public static int[] Assign(IReadOnlyList<long> costs, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        var owners = new int[costs.Count];
        var load = new long[ranks];
        foreach (int item in Enumerable.Range(0, costs.Count).OrderByDescending(i => costs[i]).ThenBy(i => i))
        {
            int rank = 0;
            for (int r = 1; r < ranks; r++) if (load[r] < load[rank]) rank = r;
            owners[item] = rank;
            load[rank] += costs[item];
        }
        return owners;
    }
}
