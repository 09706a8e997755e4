using Dtrain.Contracts.Randomness;

namespace Dtrain.Graph.Partitioning;

/// <summary>
/// Assigns each node to a partition uniformly at random: the baseline METIS is measured against. Node v's partition
/// depends only on the seed and v, so it is the same whatever order nodes are visited in.
/// </summary>
public static class RandomPartitioner
{
    private const long Stream = 0x5041_5254; // "PART": keeps these draws apart from other users of the seed

    public static int[] Assign(int nodeCount, int parts, long seed)
    {
        var assignment = new int[nodeCount];
        for (int v = 0; v < nodeCount; v++) assignment[v] = new CounterRandom(CounterRandom.Key(seed, Stream, v)).NextInt(parts);
        return assignment;
    }
}
