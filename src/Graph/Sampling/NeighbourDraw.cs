using Dtrain.Contracts.Randomness;

namespace Dtrain.Graph.Sampling;

/// <summary>
/// Draws up to a fanout of one node's in-neighbours without replacement. The draw depends only on the hop's key,
/// the node and its (sorted) neighbour list, never on which partition or thread does it, which is what makes
/// distributed sampling equal single-partition sampling. Results come out in ascending neighbour order.
/// </summary>
public static class NeighbourDraw
{
    /// <summary>Uniform: every subset of size <paramref name="fanout"/> is equally likely; all neighbours when there are fewer.</summary>
    /// <returns>How many were written to <paramref name="output"/> (min of fanout and degree).</returns>
    public static int Uniform(ReadOnlySpan<int> neighbours, int fanout, ulong key, int node, Span<int> output)
    {
        int degree = neighbours.Length;
        if (degree <= fanout)
        {
            neighbours.CopyTo(output);
            return degree;
        }
        // Floyd's algorithm: fanout draws give a uniform fanout-subset of [0, degree), without a degree-sized buffer.
        var random = new CounterRandom(CounterRandom.Mix(key ^ (ulong)node));
        var chosen = output[..fanout];
        int count = 0;
        for (int j = degree - fanout; j < degree; j++)
        {
            int t = random.NextInt(j + 1);
            int pick = chosen[..count].Contains(t) ? j : t;
            chosen[count++] = pick;
        }
        chosen.Sort();
        for (int i = 0; i < fanout; i++) chosen[i] = neighbours[chosen[i]];
        return fanout;
    }

    /// <summary>How many of a node's neighbours a weighted draw can return: those of positive weight.</summary>
    public static int Drawable(ReadOnlySpan<float> weights)
    {
        int count = 0;
        foreach (float weight in weights) if (weight > 0) count++;
        return count;
    }

    /// <summary>
    /// Weighted (Efraimidis and Spirakis): each neighbour with weight w > 0 gets the key u^(1/w), u uniform, and the
    /// largest keys win; that is sampling without replacement with probability proportional to weight at every
    /// draw. Neighbours of weight 0 are never drawn.
    /// </summary>
    public static int Weighted(ReadOnlySpan<int> neighbours, ReadOnlySpan<float> weights, int fanout, ulong key, int node, Span<int> output)
    {
        var random = new CounterRandom(CounterRandom.Mix(key ^ (ulong)node));
        Span<double> priorities = neighbours.Length <= 256 ? stackalloc double[neighbours.Length] : new double[neighbours.Length];
        Span<int> order = neighbours.Length <= 256 ? stackalloc int[neighbours.Length] : new int[neighbours.Length];
        int positive = 0;
        for (int i = 0; i < neighbours.Length; i++)
        {
            double u = 1.0 - random.NextDouble(); // in (0, 1]
            if (!(weights[i] > 0)) continue;
            // -log(u) / w is an exponential with rate w: it orders like u^(1/w) reversed, so the smallest win.
            priorities[positive] = -Math.Log(u) / weights[i];
            order[positive++] = i;
        }
        int taken = Math.Min(fanout, positive);
        priorities[..positive].Sort(order[..positive]);
        var chosen = output[..taken];
        order[..taken].CopyTo(chosen);
        chosen.Sort();
        for (int i = 0; i < taken; i++) chosen[i] = neighbours[chosen[i]];
        return taken;
    }
}
