using Dtrain.Collectives.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Collectives.DataParallel;

/// <summary>
/// Tells, during backward, when a bucket's gradients are final. A forward pre-hook on every module that owns
/// parameters marks the point in forward where the first module holding a bucket's parameters is called: it passes
/// that module's input through a <see cref="BackwardSignal"/>. libtorch's autograd engine runs, of the nodes ready
/// to run, the one created latest in forward first, and AccumulateGrad (which writes a parameter's .grad) before any
/// other; so the signal's backward runs only after every node created after it, including the AccumulateGrad of
/// every use of the bucket's parameters.
/// That holds when a parameter is used only inside calls of the module that owns it (no weight tying across
/// modules), and the hooks run only when a module is invoked with call(), as Sequential does; forward() skips them.
/// A bucket whose point is passed with an input that needs no gradient (the first layer's: the data), or that has
/// a parameter of a module whose input is not one tensor, gets no signal: <see cref="OverlappedGradientSync"/>
/// reduces it once backward has returned.
/// </summary>
internal sealed class BucketSignals : IDisposable
{
    private readonly List<Action> unhook = [];
    private readonly bool[] unsignalled;
    private readonly bool[] passed;
    private readonly Action<int> ready;
    private readonly BackwardFailure failure;

    /// <param name="ready">Called with a bucket's index, during backward, once its gradients are final.</param>
    public BucketSignals(nn.Module model, GradientBuckets buckets, Action<int> ready, BackwardFailure failure)
    {
        (this.ready, this.failure) = (ready, failure);
        var bucketOf = new Dictionary<Parameter, int>(ReferenceEqualityComparer.Instance);
        for (int b = 0; b < buckets.Count; b++)
        {
            foreach (var p in buckets[b].Parameters) bucketOf[p] = b;
        }
        unsignalled = new bool[buckets.Count];
        foreach (var module in model.modules().Prepend(model).Distinct())
        {
            int[] owned = module.named_parameters(recurse: false).Select(p => bucketOf[p.parameter]).Distinct().ToArray();
            if (owned.Length == 0) continue;
            if (module is nn.Module<Tensor, Tensor> layer)
            {
                var hook = layer.register_forward_pre_hook((_, input) => OnCall(owned, input));
                unhook.Add(hook.remove);
            }
            else
            {
                foreach (int b in owned) unsignalled[b] = true;
            }
        }
        passed = (bool[])unsignalled.Clone();
    }

    /// <summary>
    /// Whether forward marks the buckets' points. Off for the micro-batches whose gradients only accumulate: their
    /// backward then signals nothing, and the next forward with it on marks the points for the step that syncs.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Starts the next step: forward marks the buckets' points anew.</summary>
    public void Reset() => Array.Copy(unsignalled, passed, passed.Length);

    private Tensor OnCall(int[] owned, Tensor input)
    {
        if (!Enabled || !is_grad_enabled()) return input;   // no backward follows, or it only accumulates
        int[] first = owned.Where(b => !passed[b]).ToArray();
        if (first.Length == 0) return input;
        foreach (int b in first) passed[b] = true;
        return input.requires_grad ? BackwardSignal.Attach(input, () => Array.ForEach(first, ready), failure) : input;
    }

    public void Dispose() => unhook.ForEach(remove => remove());
}
