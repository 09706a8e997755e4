using Dtrain.Contracts;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Collectives.DataParallel;

/// <summary>
/// The gradients of some parameters, packed into one flat tensor that is all-reduced in one collective, then
/// written back. The flat tensor (float32, or also bfloat16 with compression) lives on the parameters' device; on
/// CUDA it is staged through a pinned host tensor, so the all-reduce reads and writes host memory only and needs no
/// torch call. All three are kept between steps.
/// </summary>
internal sealed class GradientBucket : IDisposable
{
    private readonly (string Name, Parameter Parameter)[] parameters;
    private readonly Tensor flat;
    private readonly Tensor? compressed;
    private readonly Tensor host;

    public GradientBucket((string Name, Parameter Parameter)[] parameters, bool compressToBFloat16)
    {
        this.parameters = parameters;
        long total = parameters.Sum(p => p.Parameter.numel());
        var device = parameters[0].Parameter.device;
        flat = zeros(total, ScalarType.Float32, device).DetachFromDisposeScope();
        compressed = compressToBFloat16 ? zeros(total, ScalarType.BFloat16, device).DetachFromDisposeScope() : null;
        host = device.type == DeviceType.CPU ? Wire : PinnedLike(Wire);
    }

    public IEnumerable<Parameter> Parameters => parameters.Select(p => p.Parameter);

    /// <summary>What goes on the wire, on the parameters' device.</summary>
    private Tensor Wire => compressed ?? flat;

    /// <summary>
    /// Flattens the gradients into the host tensor the all-reduce works on and returns it. On CUDA the copy to
    /// pinned memory returns once it (and every kernel queued before it on the stream) has finished.
    /// </summary>
    public Tensor Pack()
    {
        using var scope = NewDisposeScope();
        long offset = 0;
        foreach (var (name, p) in parameters)
        {
            var gradient = p.grad ?? throw new DtrainException(
                $"parameter {name} has no gradient: it took no part in the loss, so its gradient bucket cannot be averaged");
            flat.narrow(0, offset, p.numel()).copy_(gradient.flatten());
            offset += p.numel();
        }
        compressed?.copy_(flat);
        if (!ReferenceEquals(host, Wire)) host.copy_(Wire);
        return host;
    }

    /// <summary>Writes the reduced values back into the gradients.</summary>
    public void Unpack()
    {
        using var scope = NewDisposeScope();
        if (!ReferenceEquals(host, Wire)) Wire.copy_(host);
        if (compressed is not null) flat.copy_(compressed);
        long offset = 0;
        foreach (var (_, p) in parameters)
        {
            p.grad!.copy_(flat.narrow(0, offset, p.numel()).view_as(p));
            offset += p.numel();
        }
    }

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
