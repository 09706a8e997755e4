using Dtrain.Contracts.Randomness;
using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Generators;

/// <summary>
/// Generates an R-MAT graph (see <see cref="RMatOptions"/>). Edges are drawn in parallel chunks, each edge from
/// random bits at its own counters, so the graph depends on the seed alone, never on the thread count.
/// </summary>
public static class RMat
{
    private const int EdgesPerChunk = 1 << 16;

    /// <summary>SplitMix64's increment (the golden ratio in 64 bits): Mix at counters spaced by it is the SplitMix64 sequence.</summary>
    private const ulong SplitMixIncrement = 0x9E3779B97F4A7C15UL;

    /// <param name="parallel">Limits the threads used (the result is the same for any limit); null uses all cores.</param>
    public static GraphData Generate(RMatOptions options, ParallelOptions? parallel = null)
    {
        options.Validate();
        parallel ??= new ParallelOptions();
        int n = options.NodeCount;
        var thresholds = LevelThresholds(options);
        // R-MAT puts the hubs at small IDs (many leading zero bits); relabelling spreads them over the whole range,
        // so that a range partition does not get all of them.
        var relabel = SeededPermutation.Create(n, options.Seed, RandomStreams.Permutation);

        long edgeCount = options.DrawnEdges;
        var sources = new int[edgeCount];
        var destinations = new int[edgeCount];
        ulong edgeKey = CounterRandom.Key(options.Seed, RandomStreams.Edges, 0);
        long chunks = (edgeCount + EdgesPerChunk - 1) / EdgesPerChunk;
        Parallel.For(0, chunks, parallel, chunk =>
        {
            long end = Math.Min(edgeCount, (chunk + 1) * EdgesPerChunk);
            for (long e = chunk * EdgesPerChunk; e < end; e++)
            {
                var (source, destination) = DrawEdge(thresholds, edgeKey, e);
                sources[e] = relabel[source];
                destinations[e] = relabel[destination];
            }
        });
        var (offsets, inSources, _) = GraphBuilder.ToCsc(n, sources, destinations, undirected: options.Undirected);

        var labels = new int[n];
        for (int v = 0; v < n; v++) labels[v] = new CounterRandom(CounterRandom.Key(options.Seed, RandomStreams.Labels, v)).NextInt(options.Classes);
        var features = CommunityFeatures.Generate(labels, options.Classes, options.FeatureDim, options.FeatureNoise, options.Seed, parallel);
        var split = options.Split.Assign(n, options.Seed);
        return new GraphData(offsets, inSources, null, options.FeatureDim, features, options.Classes, labels, split);
    }

    /// <summary>
    /// Per level, the cumulative probabilities A, A + B, A + B + C as 32-bit thresholds: a level then costs half a
    /// 64-bit draw and integer compares, which matters at hundreds of millions of levels.
    /// </summary>
    private static (uint A, uint AB, uint ABC)[] LevelThresholds(RMatOptions options)
    {
        var noise = new CounterRandom(CounterRandom.Key(options.Seed, RandomStreams.LevelNoise, 0));
        var levels = new (uint, uint, uint)[options.Scale];
        for (int level = 0; level < levels.Length; level++)
        {
            // Seshadhri-Pinar-Kolda noise: B and C gain mu, A and D lose it in proportion, so the sum stays 1.
            double mu = options.LevelNoise * (2 * noise.NextDouble() - 1);
            double a = options.A - 2 * mu * options.A / (options.A + options.D);
            double b = options.B + mu, c = options.C + mu;
            levels[level] = (Threshold(a), Threshold(a + b), Threshold(a + b + c));
        }
        return levels;

        static uint Threshold(double p) => (uint)Math.Min(uint.MaxValue, Math.Round(p * (1UL << 32)));
    }

    /// <summary>One edge: per level, from the most significant bit down, a quadrant picks a bit of the source (row) and the destination (column).</summary>
    /// <remarks>
    /// The random bits of edge e are SplitMix64 outputs at counters e × 16, e × 16 + 1, ... (32 bits a level, at
    /// most 15 words for 30 levels). Unlike a stream that feeds each draw into the next, these hashes do not wait
    /// on one another, so the CPU computes several at once; and edge e's bits do not depend on any chunking.
    /// </remarks>
    private static (int Source, int Destination) DrawEdge((uint A, uint AB, uint ABC)[] thresholds, ulong edgeKey, long edge)
    {
        int source = 0, destination = 0;
        ulong bits = 0, counter = edgeKey + (ulong)edge * 16 * SplitMixIncrement;
        for (int level = 0; level < thresholds.Length; level++)
        {
            if ((level & 1) == 0)
            {
                bits = CounterRandom.Mix(counter);
                counter += SplitMixIncrement;
            }
            uint draw = (uint)(bits >> (32 * (level & 1)));
            var (a, ab, abc) = thresholds[level];
            // Branch-free: the quadrant is random, so branches on it would be mispredicted half the time.
            int lowerHalf = draw >= ab ? 1 : 0;
            int rightHalf = (draw >= a) & (draw < ab) | (draw >= abc) ? 1 : 0;
            source = source << 1 | lowerHalf;
            destination = destination << 1 | rightHalf;
        }
        return (source, destination);
    }
}
