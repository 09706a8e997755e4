using Dtrain.Collectives.Buffers;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Collectives.Tensors;

/// <summary>
/// A tensor's elements as host memory the transports can read and write in place. A contiguous CPU tensor is
/// used as it is; a CUDA (or non-contiguous) tensor is staged through a host copy that is written back with
/// <see cref="CopyBack"/>. The copy lives in a buffer of <see cref="StagingBuffers"/>, pinned for CUDA tensors,
/// allocated once per type and size and reused.
/// </summary>
internal sealed class HostTensor : IDisposable
{
    private readonly Tensor original;
    private readonly Tensor host;
    private readonly Tensor? staging;

    private HostTensor(Tensor original, Tensor host, Tensor? staging)
    {
        this.original = original;
        this.host = host;
        this.staging = staging;
    }

    public static HostTensor Of(Tensor tensor)
    {
        if (tensor.device_type == DeviceType.CPU && tensor.is_contiguous())
        {
            return new HostTensor(tensor, tensor, null);
        }
        // Pinned memory lets the device copy run by DMA instead of through a pageable bounce buffer.
        var staging = StagingBuffers.Rent(tensor.dtype, tensor.numel(), pinned: tensor.device_type == DeviceType.CUDA);
        var host = staging.view(tensor.shape);
        host.copy_(tensor);
        return new HostTensor(tensor, host, staging);
    }

    /// <summary>Whether the elements live in a staging copy rather than in the tensor itself.</summary>
    public bool IsStaged => staging is not null;

    /// <summary>The address of the host elements, for telling buffers apart.</summary>
    public unsafe IntPtr Address
    {
        get
        {
            fixed (byte* start = host.bytes) return (IntPtr)start;
        }
    }

    public ScalarType DataType => host.dtype;

    /// <summary>The elements as <typeparamref name="T"/>; valid while this object is alive.</summary>
    public unsafe Memory<T> As<T>() where T : unmanaged
    {
        var bytes = host.bytes;
        fixed (byte* start = bytes)
        {
            return new UnmanagedMemoryManager<T>((T*)start, bytes.Length / sizeof(T)).Memory;
        }
    }

    /// <summary>Writes the host copy's values into the original tensor, if they are two.</summary>
    public void CopyBack()
    {
        if (!ReferenceEquals(host, original))
        {
            original.copy_(host);
        }
    }

    public void Dispose()
    {
        if (staging is null) return;
        host.Dispose();
        StagingBuffers.Return(staging);
    }
}
