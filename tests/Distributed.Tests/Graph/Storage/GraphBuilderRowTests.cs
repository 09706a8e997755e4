using Dtrain.Graph.Storage;

namespace Dtrain.Tests.Graph.Storage;

/// <summary>ToCsc sorts and compacts rows in parallel; these compare it with the plain definition on many rows.</summary>
public class GraphBuilderRowTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rows_are_the_sorted_distinct_in_neighbours_without_self_loops(bool undirected)
    {
        const int nodes = 3000;
        var random = new Random(5);
        var sources = Enumerable.Range(0, 40_000).Select(_ => random.Next(nodes)).ToArray();
        var destinations = sources.Select(s => random.Next(4) == 0 ? s : random.Next(nodes)).ToArray();

        var (offsets, inSources, weights) = GraphBuilder.ToCsc(nodes, sources, destinations, undirected: undirected);

        var edges = sources.Zip(destinations).ToList();
        if (undirected) edges.AddRange(edges.Select(e => (e.Second, e.First)).ToList());
        for (int v = 0; v < nodes; v++)
        {
            var expected = edges.Where(e => e.Second == v && e.First != v).Select(e => e.First).Distinct().Order();
            Assert.Equal(expected, inSources[offsets[v]..offsets[v + 1]]);
        }
        Assert.Null(weights);
    }

    [Fact]
    public void Weights_stay_with_their_edges()
    {
        // Weight = 10 × source + destination, so any weight that moved away from its edge shows.
        int[] sources = [3, 1, 2, 1, 0, 3, 2];
        int[] destinations = [0, 0, 0, 0, 1, 1, 2];
        float[] weights = sources.Zip(destinations, (s, d) => 10f * s + d).ToArray();

        var (offsets, inSources, inWeights) = GraphBuilder.ToCsc(4, sources, destinations, weights);

        Assert.Equal([0, 3, 5, 5, 5], offsets);
        Assert.Equal([1, 2, 3, 0, 3], inSources);
        Assert.Equal([10f, 20f, 30f, 1f, 31f], inWeights!);
    }
}
