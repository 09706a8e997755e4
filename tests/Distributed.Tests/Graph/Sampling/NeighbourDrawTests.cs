using Dtrain.Graph.Sampling;

namespace Dtrain.Tests.Graph.Sampling;

/// <summary>One node's draw: real neighbours, no repeats, the fanout respected, and the right distribution.</summary>
public class NeighbourDrawTests
{
    [Theory]
    [InlineData(30, 5)]
    [InlineData(30, 29)]
    [InlineData(1000, 15)]
    public void A_uniform_draw_is_a_sorted_set_of_real_neighbours_of_fanout_size(int degree, int fanout)
    {
        var neighbours = new Random(degree).GetItems(Enumerable.Range(0, 100_000).ToArray(), degree * 2).Distinct().Take(degree).Order().ToArray();
        var output = new int[fanout];
        for (ulong key = 0; key < 200; key++)
        {
            int count = NeighbourDraw.Uniform(neighbours, fanout, key, node: 17, output);
            Assert.Equal(fanout, count);
            Assert.All(output, id => Assert.Contains(id, neighbours));
            Assert.Equal(output.Order().Distinct(), output);
        }
    }

    [Fact]
    public void A_node_with_fewer_neighbours_than_the_fanout_gives_them_all()
    {
        int[] neighbours = [3, 8, 41, 42, 977];
        var output = new int[10];
        Assert.Equal(5, NeighbourDraw.Uniform(neighbours, 10, key: 99, node: 1, output));
        Assert.Equal(neighbours, output[..5]);
        Assert.Equal(5, NeighbourDraw.Weighted(neighbours, [0.5f, 2, 1, 3, 0.1f], 10, key: 99, node: 1, output));
        Assert.Equal(neighbours, output[..5]);
    }

    /// <summary>
    /// Every 2-subset of 6 neighbours must be equally likely: a chi-square test over the 15 subsets with 14 degrees
    /// of freedom, against the critical value at p = 0.001 (36.12). Fixed keys, so the test is repeatable.
    /// </summary>
    [Fact]
    public void Uniform_draws_pick_every_subset_equally_often()
    {
        int[] neighbours = [2, 5, 11, 13, 20, 31];
        const int draws = 30_000;
        var counts = new Dictionary<(int, int), int>();
        var output = new int[2];
        for (int i = 0; i < draws; i++)
        {
            NeighbourDraw.Uniform(neighbours, 2, key: (ulong)i * 7919, node: 4, output);
            counts[(output[0], output[1])] = counts.GetValueOrDefault((output[0], output[1])) + 1;
        }
        Assert.Equal(15, counts.Count);
        double expected = draws / 15.0;
        double chiSquare = counts.Values.Sum(observed => (observed - expected) * (observed - expected) / expected);
        Assert.True(chiSquare < 36.12, $"chi-square {chiSquare:F1} over 15 subsets");
    }

    /// <summary>
    /// Weighted draws without replacement: the pair {i, j} comes out with probability
    /// w_i/W · w_j/(W − w_i) + w_j/W · w_i/(W − w_j). Chi-square over the 6 pairs of 4 neighbours (5 degrees of
    /// freedom, p = 0.001: 20.52); a neighbour of weight 0 never appears.
    /// </summary>
    [Fact]
    public void Weighted_draws_follow_successive_sampling_probabilities()
    {
        int[] neighbours = [10, 20, 30, 40, 50];
        float[] weights = [1, 2, 3, 4, 0];
        const int draws = 40_000;
        var counts = new Dictionary<(int, int), int>();
        var output = new int[2];
        for (int i = 0; i < draws; i++)
        {
            Assert.Equal(2, NeighbourDraw.Weighted(neighbours, weights, 2, key: (ulong)i * 104729, node: 9, output));
            Assert.DoesNotContain(50, output);
            counts[(output[0], output[1])] = counts.GetValueOrDefault((output[0], output[1])) + 1;
        }
        double total = 10, chiSquare = 0;
        for (int i = 0; i < 4; i++)
        {
            for (int j = i + 1; j < 4; j++)
            {
                double p = weights[i] / total * weights[j] / (total - weights[i]) + weights[j] / total * weights[i] / (total - weights[j]);
                double expected = p * draws, observed = counts.GetValueOrDefault((neighbours[i], neighbours[j]));
                chiSquare += (observed - expected) * (observed - expected) / expected;
            }
        }
        Assert.True(chiSquare < 20.52, $"chi-square {chiSquare:F1} over 6 pairs");
    }

    [Fact]
    public void The_draw_depends_on_key_and_node_only()
    {
        var neighbours = Enumerable.Range(0, 50).Select(i => i * 3 + 1).ToArray();
        int[] a = new int[5], b = new int[5], c = new int[5], d = new int[5];
        NeighbourDraw.Uniform(neighbours, 5, key: 1234, node: 8, a);
        NeighbourDraw.Uniform(neighbours, 5, key: 1234, node: 8, b);
        NeighbourDraw.Uniform(neighbours, 5, key: 1235, node: 8, c);
        NeighbourDraw.Uniform(neighbours, 5, key: 1234, node: 9, d);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, d);
    }
}
