using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Flat;

/// <summary>
/// Clipping by the global gradient norm, as torch.nn.utils.clip_grad_norm_ (norm 2): when the norm exceeds
/// max_norm, every gradient is multiplied by max_norm / (norm + 1e-6). The norm is summed the same way whether the
/// gradients are replicated or ZeRO-1 sharded, so both clip bitwise alike: the sum of squares of each of the
/// buffers' <see cref="FlatParameters.Shards"/> blocks (over the groups in order, in float64), then those block sums
/// added in block order, then the square root. Sharded, each rank computes its own block's sum and the ranks
/// all-gather them (<see cref="ShardedAdamW.ClipGradNormAsync"/>) instead of all-reducing, so that the addition
/// order does not depend on the all-reduce algorithm.
/// </summary>
public static class GradientClipping
{
    private const double Epsilon = 1e-6;

    /// <summary>
    /// Clips gradients that are identical on every rank (already averaged, or one process), so the local norm is
    /// the global one. Returns the norm before clipping.
    /// </summary>
    public static double ClipGradNorm(FlatParameters parameters, double maxNorm)
    {
        double norm = Norm(Enumerable.Range(0, parameters.Shards).Select(block => BlockSumOfSquares(parameters, block, parameters.Shards)));
        Scale(parameters.Groups.Select(g => g.Gradients), norm, maxNorm);
        return norm;
    }

    /// <summary>The sum of the squares of block <paramref name="block"/> of every group's gradients, in float64.</summary>
    internal static double BlockSumOfSquares(FlatParameters parameters, int block, int blocks)
    {
        using var scope = NewDisposeScope();
        return parameters.Groups.Sum(g => SumOfSquares(g.Shard(g.Gradients, block, blocks)));
    }

    /// <summary>The norm from the blocks' sums of squares, added in block order.</summary>
    internal static double Norm(IEnumerable<double> blockSumsOfSquares) => Math.Sqrt(blockSumsOfSquares.Aggregate(0.0, (sum, x) => sum + x));

    /// <summary>Multiplies <paramref name="gradients"/> by max_norm / (norm + 1e-6) when that is below 1.</summary>
    internal static void Scale(IEnumerable<Tensor> gradients, double norm, double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "max_norm must be positive");
        double coefficient = maxNorm / (norm + Epsilon);
        if (coefficient >= 1) return;
        using var scalars = new HeldScalars();
        using var noGrad = no_grad();
        var scale = scalars.Of(coefficient);
        foreach (var gradient in gradients) gradient.mul_(scale);
    }

    /// <summary>x·x rather than square(), whose exponent TorchSharp passes as an implicit Scalar (see HeldScalars).</summary>
    private static double SumOfSquares(Tensor block)
    {
        using var squares = block.mul(block);
        return squares.sum(ScalarType.Float64).item<double>();
    }
}
