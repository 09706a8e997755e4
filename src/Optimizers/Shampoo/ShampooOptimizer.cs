using Dtrain.Contracts;
using Dtrain.Optimizers.Shampoo.Blocking;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Optimizers.Shampoo;

/// <summary>
/// Shampoo (single process): every parameter is cut into blocks (<see cref="BlockShapes"/>), each preconditioned
/// by the inverse roots of its Kronecker factors, with its step size grafted from a diagonal optimizer. The
/// algorithm, option names and defaults follow the reference implementation (../shared/reference/shampoo.md).
/// </summary>
public sealed class ShampooOptimizer : IDisposable
{
    private readonly IReadOnlyList<(string Name, Parameter Parameter, (long Start, long Length)[][] Ranges, ShampooBlock[] Blocks, long[] Merged)> parameters;
    private readonly ShampooOptions options;

    public ShampooOptimizer(IEnumerable<(string Name, Parameter Parameter)> parameters, ShampooOptions options)
    {
        var problems = options.Problems().ToList();
        if (problems.Count > 0) throw new ArgumentException($"invalid Shampoo options: {string.Join("; ", problems)}");
        this.options = options;
        this.parameters = parameters.Select(named =>
        {
            var merged = BlockShapes.Merge(named.Parameter.shape, options.MaxPreconditionerDim);
            var ranges = BlockShapes.Split(merged, options.MaxPreconditionerDim).ToArray();
            var blocks = ranges.Select((r, i) => new ShampooBlock($"{named.Name} block {i}", r.Select(d => d.Length).ToArray(), named.Parameter, options)).ToArray();
            return (named.Name, named.Parameter, ranges, blocks, merged);
        }).ToArray();
    }

    public long StepCount { get; private set; }

    public void ZeroGrad()
    {
        foreach (var p in parameters) p.Parameter.grad?.zero_();
    }

    public void Step()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        StepCount++;
        foreach (var (name, parameter, ranges, blocks, merged) in parameters)
        {
            if (parameter.grad is not { } gradient) continue;
            if (!isfinite(gradient).all().item<bool>())
            {
                throw new DtrainException($"the gradient of {name} contains NaN or Inf at step {StepCount}");
            }
            if (options.WeightDecayType == WeightDecayType.L2 && options.WeightDecay != 0)
            {
                gradient = gradient + options.WeightDecay * parameter;
            }
            var gradients = gradient.reshape(merged);
            var weights = parameter.view(merged);
            for (int b = 0; b < blocks.Length; b++)
            {
                var weightBlock = Narrow(weights, ranges[b]);
                var direction = blocks[b].SearchDirection(Narrow(gradients, ranges[b]).contiguous(), weightBlock, StepCount);
                weightBlock.add_(direction);
            }
        }
    }

    private static Tensor Narrow(Tensor tensor, (long Start, long Length)[] range)
    {
        for (int d = 0; d < range.Length; d++) tensor = tensor.narrow(d, range[d].Start, range[d].Length);
        return tensor;
    }

    public void Dispose()
    {
        foreach (var block in parameters.SelectMany(p => p.Blocks)) block.Dispose();
    }
}
