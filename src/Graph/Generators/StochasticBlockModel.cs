using Dtrain.Contracts.Randomness;
using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Generators;

/// <summary>
/// An undirected stochastic block model drawn in O(edges): every node draws half its expected degree of edges
/// (the other half arrive from the nodes that draw it), each into its own community with probability
/// <see cref="StochasticBlockModelOptions.Homophily"/>, else to a uniform node of another community. Labels are
/// the communities; features are <see cref="CommunityFeatures"/>. Every draw comes from a per-node
/// <see cref="CounterRandom"/> stream, so a seed always gives the same graph.
/// </summary>
public static class StochasticBlockModel
{
    public static GraphData Generate(StochasticBlockModelOptions options)
    {
        options.Validate();
        int n = options.Nodes, k = options.Communities;
        // Interleaved communities: community c is the nodes c, c + k, c + 2k, ..., so a member is found by arithmetic.
        var labels = new int[n];
        for (int v = 0; v < n; v++) labels[v] = v % k;

        var sources = new List<int>((int)(n * options.AverageDegree / 2) + n);
        var destinations = new List<int>(sources.Capacity);
        // Half the degree per node, rounded up or down at random so that the mean stays exact for odd degrees.
        double half = options.AverageDegree / 2;
        for (int v = 0; v < n; v++)
        {
            var random = new CounterRandom(CounterRandom.Key(options.Seed, RandomStreams.Edges, v));
            int count = (int)half + (random.NextDouble() < half - Math.Floor(half) ? 1 : 0);
            for (int e = 0; e < count; e++)
            {
                int community = labels[v];
                int u = random.NextDouble() < options.Homophily
                    ? MemberOf(community, ref random)
                    : NonMemberOf(community, ref random);
                sources.Add(v);
                destinations.Add(u);
            }
        }
        // Self-loops (a node drawing itself) and repeated pairs are dropped here; both are rare at these sizes.
        var (offsets, inSources, _) = GraphBuilder.ToCsc(n, sources.ToArray(), destinations.ToArray(), undirected: true);

        var parallel = new ParallelOptions();
        var features = CommunityFeatures.Generate(labels, k, options.FeatureDim, options.FeatureNoise, options.Seed, parallel);
        var split = options.Split.Assign(n, options.Seed);
        return new GraphData(offsets, inSources, null, options.FeatureDim, features, k, labels, split);

        int MemberOf(int community, ref CounterRandom random)
        {
            int size = (n - community + k - 1) / k;
            return community + random.NextInt(size) * k;
        }

        // Rejection keeps the choice exactly uniform over the other communities' nodes; it retries 1 / k of the time.
        int NonMemberOf(int community, ref CounterRandom random)
        {
            while (true)
            {
                int u = random.NextInt(n);
                if (u % k != community) return u;
            }
        }
    }
}
