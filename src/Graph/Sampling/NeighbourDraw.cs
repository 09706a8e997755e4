using System.Runtime.CompilerServices;
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
        int count = UniformPositions(neighbours.Length, fanout, key, node, output);
        for (int i = 0; i < count; i++) output[i] = neighbours[output[i]];
        return count;
    }

    /// <summary>
    /// The positions in a neighbour list of length <paramref name="degree"/> that <see cref="Uniform"/> picks, in
    /// ascending order, so that a caller can fetch those neighbours ahead of time.
    /// </summary>
    /// <returns>How many were written to <paramref name="positions"/> (min of fanout and degree).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from a job's first batch: no slow first tier
    public static int UniformPositions(int degree, int fanout, ulong key, int node, Span<int> positions)
    {
        if (degree <= fanout)
        {
            for (int i = 0; i < degree; i++) positions[i] = i;
            return degree;
        }
        // Floyd's algorithm: fanout draws give a uniform fanout-subset of [0, degree), without a degree-sized buffer.
        // The subset is kept sorted as it grows. A draw t already taken means taking j instead, which is larger than
        // everything taken so far and goes last; any other t is inserted in order.
        var random = new CounterRandom(CounterRandom.Mix(key ^ (ulong)node));
        int count = 0;
        for (int j = degree - fanout; j < degree; j++)
        {
            int t = random.NextInt(j + 1);
            int at = count;
            while (at > 0 && positions[at - 1] > t) at--;
            if (at > 0 && positions[at - 1] == t)
            {
                positions[count++] = j;
                continue;
            }
            for (int k = count; k > at; k--) positions[k] = positions[k - 1];
            positions[at] = t;
            count++;
        }
        return fanout;
    }

    /// <summary>How many of a node's neighbours a weighted draw can return: those of positive weight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from a job's first batch: no slow first tier
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
