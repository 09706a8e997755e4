using static TorchSharp.torch;

namespace Dtrain.Optimizers.Flat;

/// <summary>
/// AdamW over <see cref="FlatParameters"/>: one step is ten kernels per (dtype, device) buffer, whatever the number
/// of parameters, and bitwise torch.optim.AdamW's step (see <see cref="AdamWShard"/>). Every parameter is stepped
/// every step; one that took no part in the loss has a zero gradient (torch.optim skips a parameter whose
/// gradient is null, but a flat parameter's gradient is never null). The gradients must already be averaged
/// across ranks when training data-parallel.
/// </summary>
public sealed class FlatAdamW : IAdjustableLearningRate, IDisposable
{
    private readonly FlatParameters parameters;
    private readonly AdamWOptions options;
    private readonly AdamWShard state;

    public FlatAdamW(FlatParameters parameters, AdamWOptions options)
    {
        options.Validate();
        (this.parameters, this.options) = (parameters, options);
        state = new AdamWShard(parameters, 0, 1);
        LearningRate = options.LearningRate;
    }

    public double LearningRate { get; set; }

    /// <summary>The flat buffers it steps (a saved state loads onto them).</summary>
    public FlatParameters Parameters => parameters;

    public long Steps => state.Step;

    /// <summary>Adam state bytes held: two elements per element of the flat buffers, padding included.</summary>
    public long StateBytes => state.StateBytes;

    public void Step()
    {
        parameters.AttachGradients();
        state.Update(options, LearningRate);
    }

    /// <summary>The state per parameter, as views of the live flat moments (clone them to keep a copy).</summary>
    public AdamWState State => new(state.Step, parameters.Slots.Select(slot =>
    {
        var moments = state.Moments(slot.Group);
        return new AdamWMoments(parameters.ViewOf(slot, moments.ExpAvg).DetachFromDisposeScope(), parameters.ViewOf(slot, moments.ExpAvgSq).DetachFromDisposeScope());
    }).ToArray());

    public void LoadState(AdamWState saved) => state.Load(saved);

    public void Dispose() => state.Dispose();
}
