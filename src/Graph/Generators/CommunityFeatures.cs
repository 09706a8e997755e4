using Dtrain.Contracts.Randomness;

namespace Dtrain.Graph.Generators;

/// <summary>
/// Node features that carry their class only weakly: each class has a random centroid (standard Gaussian in every
/// dimension) and a node's feature is its class's centroid plus Gaussian noise of standard deviation
/// <c>noise</c>. With noise well above 1 one node's feature is a poor guide to its class, while the mean over many
/// same-class neighbours cancels the noise, which is what makes neighbourhood aggregation worth having.
/// </summary>
internal static class CommunityFeatures
{
    private const int NodesPerChunk = 4096;

    public static float[] Generate(int[] labels, int classCount, int dim, double noise, long seed, ParallelOptions parallel)
    {
        var centroids = new float[classCount * dim];
        var centroidRandom = new CounterRandom(CounterRandom.Key(seed, RandomStreams.Centroids, 0));
        for (int i = 0; i < centroids.Length; i++) centroids[i] = (float)centroidRandom.NextGaussian();

        var features = new float[(long)labels.Length * dim];
        int chunks = (labels.Length + NodesPerChunk - 1) / NodesPerChunk;
        // Each node its own stream: the values do not depend on how nodes are spread over threads.
        Parallel.For(0, chunks, parallel, chunk =>
        {
            int end = Math.Min(labels.Length, (chunk + 1) * NodesPerChunk);
            for (int v = chunk * NodesPerChunk; v < end; v++)
            {
                var random = new CounterRandom(CounterRandom.Key(seed, RandomStreams.Features, v));
                var centroid = centroids.AsSpan(labels[v] * dim, dim);
                var row = features.AsSpan(v * dim, dim);
                for (int j = 0; j < dim; j++) row[j] = centroid[j] + (float)(noise * random.NextGaussian());
            }
        });
        return features;
    }
}
