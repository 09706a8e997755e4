using Dtrain.Contracts.Randomness;
using Dtrain.Graph.Storage;

namespace Dtrain.Tests.Graph;

/// <summary>Random graphs for the graph tests, the same for the same seed.</summary>
internal static class TestGraphs
{
    public const int Clusters = 4, NodesPerCluster = 500, NodeCount = Clusters * NodesPerCluster, FeatureDim = 8;

    /// <summary>
    /// A planted partition: 4 clusters of 500 nodes, each node with 6 directed in-edges from random members of its
    /// cluster and, with probability 0.3, one from a random other node, so about 5% of edges link clusters. Cluster
    /// members are scattered over the IDs (a partitioner must find them). Features are noisy cluster centres, the
    /// label is the cluster, and about 30% of nodes are training nodes, 10% validation, 10% test.
    /// </summary>
    public static GraphData Clustered(long seed = 7, bool weighted = true)
    {
        var random = new CounterRandom(CounterRandom.Key(seed, 0, 0));
        var cluster = Enumerable.Range(0, NodeCount).Select(v => v % Clusters).ToArray();
        for (int i = NodeCount - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (cluster[i], cluster[j]) = (cluster[j], cluster[i]);
        }
        var members = Enumerable.Range(0, Clusters).Select(c => Enumerable.Range(0, NodeCount).Where(v => cluster[v] == c).ToArray()).ToArray();

        var sources = new List<int>();
        var destinations = new List<int>();
        for (int v = 0; v < NodeCount; v++)
        {
            for (int k = 0; k < 6; k++) AddEdge(members[cluster[v]][random.NextInt(NodesPerCluster)], v);
            if (random.NextDouble() < 0.3) AddEdge(random.NextInt(NodeCount), v);
        }
        var weights = weighted ? sources.Select(_ => (float)random.NextDouble()).ToArray() : [];
        var (offsets, inSources, edgeWeights) = GraphBuilder.ToCsc(NodeCount, sources.ToArray(), destinations.ToArray(), weights);

        var features = new float[NodeCount * FeatureDim];
        var split = new NodeSplit[NodeCount];
        for (int v = 0; v < NodeCount; v++)
        {
            for (int d = 0; d < FeatureDim; d++) features[v * FeatureDim + d] = (d == cluster[v] ? 1f : 0f) + (float)random.NextGaussian();
            double r = random.NextDouble();
            split[v] = r < 0.3 ? NodeSplit.Train : r < 0.4 ? NodeSplit.Validation : r < 0.5 ? NodeSplit.Test : NodeSplit.None;
        }
        return new GraphData(offsets, inSources, edgeWeights, FeatureDim, features, Clusters, cluster, split);

        void AddEdge(int source, int destination)
        {
            sources.Add(source);
            destinations.Add(destination);
        }
    }

    /// <summary>
    /// A small directed graph of random edges, not symmetric: a quarter of the nodes have no in-edges, the others
    /// 1 to 8 from random nodes; Gaussian features, 3 classes, every node a training node.
    /// </summary>
    public static GraphData Sparse(int nodeCount, int featureDim, long seed)
    {
        var random = new CounterRandom(CounterRandom.Key(seed, 0, 0));
        var sources = new List<int>();
        var destinations = new List<int>();
        for (int v = 0; v < nodeCount; v++)
        {
            int inDegree = random.NextDouble() < 0.25 ? 0 : 1 + random.NextInt(8);
            for (int k = 0; k < inDegree; k++)
            {
                sources.Add(random.NextInt(nodeCount));
                destinations.Add(v);
            }
        }
        var (offsets, inSources, _) = GraphBuilder.ToCsc(nodeCount, sources.ToArray(), destinations.ToArray());
        var features = Enumerable.Range(0, nodeCount * featureDim).Select(_ => (float)random.NextGaussian()).ToArray();
        var labels = Enumerable.Range(0, nodeCount).Select(v => v % 3).ToArray();
        return new GraphData(offsets, inSources, null, featureDim, features, 3, labels, Enumerable.Repeat(NodeSplit.Train, nodeCount).ToArray());
    }
}
