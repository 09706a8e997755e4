using Dtrain.TensorParallel.Grid;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Tests.TensorParallel;

internal static class Matrices
{
    /// <summary>Seeded standard-normal values: random, non-symmetric, never all ones (a wrong skew passes on all-ones data).</summary>
    public static Tensor Random(long rows, long cols, int seed) => randn([rows, cols], generator: new Generator((ulong)seed));

    /// <summary>This rank's block of <paramref name="full"/>, as a tensor of its own.</summary>
    public static Tensor BlockOf(ProcessGrid grid, Tensor full)
    {
        using var slice = grid.Layout(full.shape[0], full.shape[1]).Slice(full, grid.Row, grid.Col);
        var block = empty(slice.shape, full.dtype);
        block.copy_(slice);
        return block;
    }

    /// <summary>max |actual - expected| / max |expected|.</summary>
    public static double RelativeError(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        return (actual - expected).abs().max().item<float>() / expected.abs().max().item<float>();
    }

    public static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        double error = RelativeError(actual, expected);
        Assert.True(error < 1e-5, $"{what}: relative error {error:g3}");
    }

    public static void AssertBitwise(Tensor expected, Tensor actual, string what) =>
        Assert.True(expected.shape.SequenceEqual(actual.shape) && expected.eq(actual).all().item<bool>(), $"{what} differs");
}
