namespace Dtrain.Optimizers.Shampoo.Distributor;

/// <summary>
/// Which rank computes which block (reference section 4): greedy longest-processing-time. Blocks are sorted by
/// cost, largest first (ties by index, so every rank computes the same answer), and each goes to the rank with
/// the least load so far (ties to the lowest rank). A block's cost is its size in bytes rounded up to 64.
/// </summary>
public static class BlockAssignment
{
    public static long Cost(long elements, int bytesPerElement) => (elements * bytesPerElement + 63) / 64 * 64;

    /// <summary>The owning rank of each block, indexed like <paramref name="costs"/>.</summary>
    public static int[] Assign(IReadOnlyList<long> costs, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        var owners = new int[costs.Count];
        var load = new long[ranks];
        foreach (int block in Enumerable.Range(0, costs.Count).OrderByDescending(i => costs[i]).ThenBy(i => i))
        {
            int rank = 0;
            for (int r = 1; r < ranks; r++) if (load[r] < load[rank]) rank = r;
            owners[block] = rank;
            load[rank] += costs[block];
        }
        return owners;
    }
}
