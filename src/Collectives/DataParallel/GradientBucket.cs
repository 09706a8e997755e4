using Dtrain.Contracts;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Collectives.DataParallel;

/// <summary>
/// The gradients of some parameters as one flat float32 tensor that is all-reduced in one collective. When, as the
/// bucket is made, the gradients lie back to back in one buffer (views of a FlatParameters' flat gradient), the flat
/// tensor is that span of the buffer: the all-reduce works on the gradients in place, with nothing to pack or unpack.
/// Otherwise the bucket has a tensor of its own, and the gradients are copied into it and back; so is a gradient
/// that has since been replaced by another tensor. With compression a bfloat16 copy travels instead; on CUDA the
/// tensor that travels is staged through a pinned host tensor, so the all-reduce reads and writes host memory only
/// and needs no torch call. All of them are kept between steps.
/// </summary>
internal sealed class GradientBucket : IDisposable
{
    private readonly (string Name, Parameter Parameter)[] parameters;
    private readonly long[] positions;
    private readonly Tensor flat;
    private readonly Tensor? compressed;
    private readonly Tensor host;

    public GradientBucket((string Name, Parameter Parameter)[] parameters, bool compressToBFloat16)
    {
        this.parameters = parameters;
        long total = parameters.Sum(p => p.Parameter.numel());
        var device = parameters[0].Parameter.device;
        (flat, positions) = GradientSpan.Of(parameters.Select(p => p.Parameter.grad).ToArray(), total)
            ?? (zeros(total, ScalarType.Float32, device).DetachFromDisposeScope(), GradientSpan.BackToBack(parameters.Select(p => p.Parameter.numel())));
        compressed = compressToBFloat16 ? zeros(total, ScalarType.BFloat16, device).DetachFromDisposeScope() : null;
        host = device.type == DeviceType.CPU ? Wire : PinnedLike(Wire);
    }

    public IEnumerable<Parameter> Parameters => parameters.Select(p => p.Parameter);

    /// <summary>What goes on the wire, on the parameters' device.</summary>
    private Tensor Wire => compressed ?? flat;

    /// <summary>
    /// Brings the gradients into the flat tensor (those not already there) and returns the host tensor the
    /// all-reduce works on. On CUDA the copy to pinned memory returns once it (and every kernel queued before it on
    /// the stream) has finished.
    /// </summary>
    public Tensor Pack()
    {
        using var scope = NewDisposeScope();
        for (int i = 0; i < parameters.Length; i++)
        {
            var (name, p) = parameters[i];
            var gradient = p.grad ?? throw new DtrainException(
                $"parameter {name} has no gradient: it took no part in the loss, so its gradient bucket cannot be averaged");
            if (!LivesInFlat(gradient, i)) flat.narrow(0, positions[i], p.numel()).copy_(gradient.flatten());
        }
        compressed?.copy_(flat);
        if (!ReferenceEquals(host, Wire)) host.copy_(Wire);
        return host;
    }

    /// <summary>Writes the reduced values back into the gradients (those not already in the flat tensor).</summary>
    public void Unpack()
    {
        using var scope = NewDisposeScope();
        if (!ReferenceEquals(host, Wire)) Wire.copy_(host);
        if (compressed is not null) flat.copy_(compressed);
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i].Parameter;
            if (!LivesInFlat(p.grad!, i)) p.grad!.copy_(flat.narrow(0, positions[i], p.numel()).view_as(p));
        }
    }

    /// <summary>Whether the gradient is the flat tensor's elements at parameter <paramref name="index"/>'s position.</summary>
    private bool LivesInFlat(Tensor gradient, int index) =>
        GradientSpan.IsAt(gradient, flat, positions[index]);

    /// <summary>Pinned memory lets the device copies run by DMA instead of through a pageable bounce buffer.</summary>
    private static Tensor PinnedLike(Tensor wire)
    {
        using var pageable = empty(wire.shape, wire.dtype, CPU);
        return pageable.pin_memory().DetachFromDisposeScope();
    }

    public void Dispose()
    {
        if (!ReferenceEquals(host, Wire)) host.Dispose();
        flat.Dispose();
        compressed?.Dispose();
    }
}
