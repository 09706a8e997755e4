using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Optimizers.Flat;

/// <summary>
/// A model's parameters moved into one contiguous buffer per (dtype, device), so that an optimizer step is a
/// handful of kernels over each buffer instead of several per parameter. Every parameter keeps its Parameter
/// object (the module's forward uses it as before) but is re-pointed, with set_, at a view of its group's
/// <see cref="FlatGroup.Values"/>; its .grad is preset to a view of <see cref="FlatGroup.Gradients"/>, and autograd
/// accumulates into a preset gradient in place (checked in FlatParametersTests), so backward writes the flat
/// gradient directly. Each buffer is padded with zeros to a multiple of <see cref="Shards"/> elements, so that
/// ZeRO-1 can split it into equal contiguous shards. Zero the gradients with <see cref="ZeroGrad"/>: TorchSharp's
/// Module.zero_grad() sets them to null, and backward would then allocate new ones (<see cref="AttachGradients"/>
/// copies those back in, at the cost of a copy). Moving the module to another device or dtype afterwards would
/// leave the buffers behind.
/// </summary>
public sealed class FlatParameters : IDisposable
{
    private readonly FlatGroup[] groups;
    private readonly FlatSlot[] slots;

    /// <param name="parameters">The parameters, in the order their state is saved in.</param>
    /// <param name="shards">The number of equal blocks each buffer must split into: the ZeRO-1 world size, 1 when replicated.</param>
    public FlatParameters(IEnumerable<Parameter> parameters, int shards = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        Shards = shards;
        var all = parameters.ToArray();
        if (all.Length == 0) throw new ArgumentException("no parameters to flatten", nameof(parameters));
        var unsupported = all.FirstOrDefault(p => p.dtype is not (ScalarType.Float32 or ScalarType.Float64));
        if (unsupported is not null)
        {
            throw new NotSupportedException($"flat parameters are float32 or float64, not {unsupported.dtype}");
        }
        var keys = all.Select(p => (p.dtype, p.device.ToString())).Distinct().ToList();
        var offsets = new long[keys.Count];
        var layout = all.Select(p =>
        {
            int group = keys.IndexOf((p.dtype, p.device.ToString()));
            long offset = offsets[group];
            offsets[group] += p.numel();
            return (group, offset);
        }).ToArray();
        groups = keys.Select((key, g) =>
        {
            long length = (offsets[g] + shards - 1) / shards * shards;
            var device = all.First(p => (p.dtype, p.device.ToString()) == key).device;
            return new FlatGroup(zeros(length, key.dtype, device).DetachFromDisposeScope(), zeros(length, key.dtype, device).DetachFromDisposeScope(), offsets[g]);
        }).ToArray();
        slots = all.Select((p, i) => new FlatSlot(p, layout[i].group, layout[i].offset)).ToArray();
        using (no_grad())
        {
            foreach (var slot in slots) Adopt(slot);
        }
    }

    public int Shards { get; }

    /// <summary>One buffer pair per (dtype, device), in the order the parameters first use them.</summary>
    public IReadOnlyList<FlatGroup> Groups => groups;

    /// <summary>Where each parameter lives, in the order the parameters were given.</summary>
    public IReadOnlyList<FlatSlot> Slots => slots;

    /// <summary>A parameter's elements (or any per-element state of the same layout), shaped like the parameter.</summary>
    public Tensor ViewOf(FlatSlot slot, Tensor flat) => flat.narrow(0, slot.Offset, slot.Parameter.numel()).view(slot.Parameter.shape);

    /// <summary>Zeroes the flat gradients (padding included) and re-attaches any gradient that was replaced.</summary>
    public void ZeroGrad()
    {
        foreach (var group in groups) group.Gradients.zero_();
        AttachGradients();
    }

    /// <summary>
    /// Makes every parameter's .grad the view of the flat gradient again where something replaced it, copying the
    /// replacement's values in (a null gradient counts as zero). A no-op, without kernels, when nothing did.
    /// </summary>
    public void AttachGradients()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var slot in slots)
        {
            var grad = slot.Parameter.grad;
            if (grad is not null && IsView(grad, slot)) continue;
            var view = ViewOf(slot, groups[slot.Group].Gradients);
            if (grad is null) view.zero_();
            else view.copy_(grad);
            slot.Parameter.grad = view;
        }
    }

    /// <summary>Copies the parameter's values and gradient into the buffers, then points both at their views.</summary>
    private void Adopt(FlatSlot slot)
    {
        using var scope = NewDisposeScope();
        var group = groups[slot.Group];
        var values = ViewOf(slot, group.Values);
        values.copy_(slot.Parameter);
        slot.Parameter.set_(values);
        var gradient = ViewOf(slot, group.Gradients);
        if (slot.Parameter.grad is { } existing) gradient.copy_(existing);
        slot.Parameter.grad = gradient;
    }

    /// <summary>Whether <paramref name="grad"/> is the slot's view of the flat gradient: same storage, same offset.</summary>
    private bool IsView(Tensor grad, FlatSlot slot)
    {
        var flat = groups[slot.Group].Gradients;
        return grad.storage_offset() == slot.Offset && grad.dtype == flat.dtype && StorageAddress(grad) == StorageAddress(flat);
    }

    private static IntPtr StorageAddress(Tensor tensor) => tensor.dtype == ScalarType.Float32
        ? tensor.storage<float>().data_ptr()
        : tensor.storage<double>().data_ptr();

    /// <summary>Frees the buffers' handles; the parameters keep their storage alive.</summary>
    public void Dispose()
    {
        foreach (var group in groups)
        {
            group.Values.Dispose();
            group.Gradients.Dispose();
        }
    }
}

/// <summary>
/// One (dtype, device) group: the flat values and gradients, <see cref="Length"/> elements each, of which the first
/// <see cref="Used"/> belong to parameters and the rest is zero padding.
/// </summary>
public sealed record FlatGroup(Tensor Values, Tensor Gradients, long Used)
{
    public long Length => Values.numel();

    public ScalarType DataType => Values.dtype;

    /// <summary>Shard <paramref name="index"/> of <paramref name="shards"/> of a flat tensor of this group's layout.</summary>
    public Tensor Shard(Tensor flat, int index, int shards) => flat.narrow(0, Length / shards * index, Length / shards);
}

/// <summary>A parameter and where its elements start in its group's buffers.</summary>
public sealed record FlatSlot(Parameter Parameter, int Group, long Offset);
