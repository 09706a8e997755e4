using Dtrain.Optimizers.Flat;

namespace Dtrain.Tests.Optimizers;

/// <summary>
/// Replicated clipping against clip_grad_norm_'s definition, computed here in double (torch's own function makes
/// Scalars implicitly; see HeldScalars). The ZeRO-1 path is compared with this one bitwise in ShardedAdamWTests.
/// </summary>
public class GradientClippingTests
{
    [Theory]
    [InlineData(1, 0.5)]
    [InlineData(3, 0.5)]
    [InlineData(3, 1e6)]
    public void The_norm_and_the_clipped_gradients_follow_clip_grad_norms_definition(int shards, double maxNorm)
    {
        using var problem = new FlatProblem();
        using var flat = new FlatParameters(problem.Parameters, shards);
        problem.Backward(0);
        var unclipped = problem.Parameters.Select(p => p.grad!.data<float>().ToArray()).ToArray();
        double expectedNorm = Math.Sqrt(unclipped.SelectMany(g => g).Sum(x => (double)x * x));
        double coefficient = Math.Min(1, maxNorm / (expectedNorm + 1e-6));

        double norm = GradientClipping.ClipGradNorm(flat, maxNorm);

        Assert.Equal(expectedNorm, norm, 1e-6 * expectedNorm);
        for (int i = 0; i < unclipped.Length; i++)
        {
            var clipped = problem.Parameters[i].grad!.data<float>().ToArray();
            Assert.All(clipped.Zip(unclipped[i]), pair => Assert.Equal(pair.Second * coefficient, pair.First, 1e-6 * Math.Abs(pair.Second)));
        }
        Assert.Equal(maxNorm < norm, !unclipped[0].SequenceEqual(problem.Parameters[0].grad!.data<float>().ToArray()));
    }
}
