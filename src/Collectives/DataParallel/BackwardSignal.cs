using Dtrain.Collectives.Tensors;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Dtrain.Collectives.DataParallel;

/// <summary>
/// The identity, as an autograd function whose backward calls a listener when the gradient passes back through
/// it: the gradient hook TorchSharp lacks. The listener runs inside libtorch's autograd engine, on the thread
/// that runs backward (the device's thread on CUDA), through a <see cref="BackwardFailure"/> that keeps its
/// exceptions from crossing the native frame.
/// </summary>
internal sealed class BackwardSignal : SingleTensorFunction<BackwardSignal>
{
    public override string Name => nameof(BackwardSignal);

    private sealed record Listener(Action OnBackward, BackwardFailure Failure);

    /// <summary>Passes <paramref name="input"/> through; <paramref name="onBackward"/> runs when its gradient comes back.</summary>
    public static Tensor Attach(Tensor input, Action onBackward, BackwardFailure failure) =>
        apply(input, new Listener(onBackward, failure));

    /// <param name="vars">The tensor, and its <see cref="Listener"/>.</param>
    public override Tensor forward(AutogradContext ctx, params object[] vars)
    {
        ctx.save_data(nameof(Listener), vars[1]);
        // A new tensor over the same memory: the input itself would come back as a view of it, which refuses in-place ops.
        return ((Tensor)vars[0]).detach();
    }

    public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
    {
        var listener = (Listener)ctx.get_data(nameof(Listener));
        listener.Failure.Run(listener.OnBackward);
        return [gradOutput, null!];
    }
}
