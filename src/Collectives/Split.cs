using Dtrain.Collectives.Algorithms;

namespace Dtrain.Collectives;

public static class Split
{
    /// <summary>
    /// Splits a group like MPI_Comm_split: ranks that pass the same <paramref name="color"/> form a new group,
    /// ranked by (<paramref name="key"/>, old rank). Every rank must call it; a negative color joins no group
    /// and gets null. The sub-group shares this communicator's transport but not its messages.
    /// </summary>
    public static async Task<Communicator?> SplitAsync(this Communicator comm, int color, int key, CancellationToken ct = default)
    {
        var all = new long[2 * comm.Size];
        await comm.AllGatherAsync<long>(new long[] { color, key }, all, ct);
        // The all-gather's header gave every member the same collective number: with the parent's context and
        // the color it names the new group uniquely.
        long context = (long)SplitMixHash(comm.Context, comm.CollectivesStarted, color);
        if (color < 0)
        {
            return null;
        }
        var members = Enumerable.Range(0, comm.Size)
            .Where(r => all[2 * r] == color)
            .OrderBy(r => all[2 * r + 1]).ThenBy(r => r)
            .ToArray();
        return comm.CreateSubgroup(members, context);
    }

    private static ulong SplitMixHash(params long[] values)
    {
        ulong hash = 0x9E3779B97F4A7C15UL;
        foreach (long value in values)
        {
            hash ^= (ulong)value;
            hash += 0x9E3779B97F4A7C15UL;
            hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9UL;
            hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EBUL;
            hash ^= hash >> 31;
        }
        return hash;
    }
}
