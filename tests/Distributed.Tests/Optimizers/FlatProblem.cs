using Dtrain.Optimizers;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Tests.Optimizers;

/// <summary>
/// Two Linear layers with biases (6 → 9 → 4: 103 parameters, a bias of 9, so 2 and 3 shards both need padding),
/// seeded, and batches drawn from a seed per (step, rank): every copy computes the same gradients for the same batch.
/// </summary>
internal sealed class FlatProblem : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> model = nn.Sequential(nn.Linear(6, 9), nn.Tanh(), nn.Linear(9, 4));

    public FlatProblem(int seed = 17)
    {
        var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: generator));
        Parameters = model.parameters().ToArray();
    }

    public Parameter[] Parameters { get; }

    /// <summary>Backward of the mean squared error on batch (<paramref name="step"/>, <paramref name="rank"/>), accumulating into the gradients.</summary>
    public void Backward(int step, int rank = 0)
    {
        var generator = new Generator((ulong)(1000 + 100 * step + rank));
        using var scope = NewDisposeScope();
        using var s = new HeldScalars();
        var x = randn([20, 6], generator: generator);
        var y = randn([20, 4], generator: generator);
        (model.forward(x) - y).pow(s.Of(2.0)).mean().backward();
    }

    /// <summary>Zeroes the gradients in place, as torch's zero_grad(set_to_none: false).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.grad?.zero_();
    }

    /// <summary>Every parameter's values, as a copy.</summary>
    public Tensor[] Values() => Parameters.Select(p => p.detach().clone()).ToArray();

    public void Dispose() => model.Dispose();
}

internal static class Bitwise
{
    /// <summary>Asserts the tensors have the same dtype, shape and bytes.</summary>
    public static void Equal(IReadOnlyList<Tensor> expected, IReadOnlyList<Tensor> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Equal(expected[i], actual[i], $"{what} {i}");
    }

    public static void Equal(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(Bytes(expected).SequenceEqual(Bytes(actual)),
            $"{what} differs: max |difference| {(expected - actual).abs().max().to_type(ScalarType.Float64).item<double>()}");
    }

    public static bool Same(Tensor a, Tensor b) => a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && Bytes(a).SequenceEqual(Bytes(b));

    private static byte[] Bytes(Tensor tensor)
    {
        using var host = tensor.detach().cpu().contiguous();
        return host.bytes.ToArray();
    }
}
