using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Flat;

/// <summary>SGD's settings, as torch.optim.SGD's (maximize is not supported).</summary>
public sealed record SgdOptions
{
    public double LearningRate { get; init; } = 1e-3;
    public double Momentum { get; init; }
    public double Dampening { get; init; }

    /// <summary>L2: added to the gradient, weight_decay × W, before momentum.</summary>
    public double WeightDecay { get; init; }
    public bool Nesterov { get; init; }

    /// <summary>Throws with every problem, each naming the option and the bad value.</summary>
    public void Validate()
    {
        var problems = Problems().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
    }

    public IEnumerable<string> Problems()
    {
        if (!(LearningRate >= 0)) yield return $"lr must not be negative, got {LearningRate}";
        if (!(Momentum >= 0)) yield return $"momentum must not be negative, got {Momentum}";
        if (!(WeightDecay >= 0)) yield return $"weight_decay must not be negative, got {WeightDecay}";
        if (Nesterov && (Momentum <= 0 || Dampening != 0)) yield return $"nesterov needs a positive momentum and zero dampening, got momentum {Momentum}, dampening {Dampening}";
    }
}

/// <summary>
/// SGD with optional momentum, Nesterov and weight decay over <see cref="FlatParameters"/>, bitwise
/// torch.optim.SGD's step: the same element-wise operations in its order with the same Scalar values, once per
/// flat buffer. The momentum buffer starts as a copy of the first step's gradient, as torch's does. Weight decay
/// and Nesterov work in a scratch buffer kept between steps (a copy, then the in-place form of torch's operation:
/// the same values), not in a fresh temporary the size of a flat buffer each step (see <see cref="AdamWShard"/>).
/// </summary>
public sealed class FlatSgd : IAdjustableLearningRate, IDisposable
{
    private readonly FlatParameters parameters;
    private readonly SgdOptions options;
    private readonly Tensor?[] momentum;
    private readonly Tensor?[] scratch;

    public FlatSgd(FlatParameters parameters, SgdOptions options)
    {
        options.Validate();
        (this.parameters, this.options) = (parameters, options);
        momentum = new Tensor?[parameters.Groups.Count];
        scratch = new Tensor?[parameters.Groups.Count];
        LearningRate = options.LearningRate;
    }

    public double LearningRate { get; set; }

    /// <summary>A parameter's momentum buffer, as a view; null before the first step or without momentum.</summary>
    public Tensor? MomentumOf(FlatSlot slot) => momentum[slot.Group] is { } buffer ? parameters.ViewOf(slot, buffer) : null;

    public void Step()
    {
        parameters.AttachGradients();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var scalars = new HeldScalars();
        for (int g = 0; g < momentum.Length; g++)
        {
            var (param, grad) = (parameters.Groups[g].Values, parameters.Groups[g].Gradients);
            var direction = grad;
            if (options.WeightDecay != 0) direction = Scratch(g).copy_(grad).add_(param, scalars.Of(options.WeightDecay));
            if (options.Momentum != 0)
            {
                if (momentum[g] is { } buffer) buffer.mul_(scalars.Of(options.Momentum)).add_(direction, scalars.Of(1 - options.Dampening));
                else momentum[g] = direction.clone().DetachFromDisposeScope();
                direction = options.Nesterov
                    ? (options.WeightDecay != 0 ? direction : Scratch(g).copy_(grad)).add_(momentum[g]!, scalars.Of(options.Momentum))
                    : momentum[g]!;
            }
            param.add_(direction, scalars.Of(-LearningRate));
        }
    }

    private Tensor Scratch(int group) => scratch[group] ??= zeros_like(parameters.Groups[group].Gradients).DetachFromDisposeScope();

    public void Dispose()
    {
        foreach (var buffer in momentum.Concat(scratch)) buffer?.Dispose();
    }
}
