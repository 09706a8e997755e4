using Dtrain.Graph.Storage;

namespace Dtrain.Tests.Graph.Generators;

/// <summary>Statistics of a generated graph that the generator tests assert on.</summary>
internal static class GraphMeasures
{
    /// <summary>The fraction of edges whose two ends have the same label.</summary>
    public static double Homophily(GraphData graph)
    {
        long same = 0;
        for (int v = 0; v < graph.NodeCount; v++)
        {
            foreach (int u in graph.InNeighbours(v)) if (graph.Labels[u] == graph.Labels[v]) same++;
        }
        return (double)same / graph.EdgeCount;
    }

    public static bool IsSymmetric(GraphData graph)
    {
        for (int v = 0; v < graph.NodeCount; v++)
        {
            foreach (int u in graph.InNeighbours(v)) if (graph.InNeighbours(u).BinarySearch(v) < 0) return false;
        }
        return true;
    }

    /// <summary>Each node's features replaced by the mean of its in-neighbours' (GraphSAGE's mean aggregator, one layer, no weights).</summary>
    public static float[] MeanOverInNeighbours(GraphData graph)
    {
        int dim = graph.FeatureDim;
        var mean = new float[graph.Features.Length];
        for (int v = 0; v < graph.NodeCount; v++)
        {
            var row = mean.AsSpan(v * dim, dim);
            foreach (int u in graph.InNeighbours(v))
            {
                var neighbour = graph.FeaturesOf(u);
                for (int j = 0; j < dim; j++) row[j] += neighbour[j] / graph.InDegree(v);
            }
        }
        return mean;
    }

    /// <summary>
    /// Test accuracy of the simplest classifier there is: each class's mean feature over the training nodes, and
    /// each test node assigned the class whose mean is nearest.
    /// </summary>
    public static double NearestCentroidAccuracy(GraphData graph, float[] features)
    {
        int dim = graph.FeatureDim, classes = graph.ClassCount;
        var centroids = new double[classes * dim];
        var counts = new int[classes];
        foreach (int v in graph.NodesIn(NodeSplit.Train))
        {
            counts[graph.Labels[v]]++;
            for (int j = 0; j < dim; j++) centroids[graph.Labels[v] * dim + j] += features[v * dim + j];
        }
        for (int i = 0; i < centroids.Length; i++) centroids[i] /= counts[i / dim];

        var test = graph.NodesIn(NodeSplit.Test);
        int correct = test.Count(v => Nearest(v) == graph.Labels[v]);
        return (double)correct / test.Length;

        int Nearest(int v) => Enumerable.Range(0, classes).MinBy(c =>
            Enumerable.Range(0, dim).Sum(j => Math.Pow(features[v * dim + j] - centroids[c * dim + j], 2)));
    }
}
