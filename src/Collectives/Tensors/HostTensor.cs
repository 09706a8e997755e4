using Dtrain.Collectives.Buffers;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Collectives.Tensors;

/// <summary>
/// A tensor's elements as host memory the transports can read and write in place. A contiguous CPU tensor is
/// used as it is; a CUDA (or non-contiguous) tensor is staged through a pinned host copy that is written back
/// with <see cref="CopyBack"/>.
/// </summary>
internal sealed class HostTensor : IDisposable
{
    private readonly Tensor original;
    private readonly Tensor host;

    private HostTensor(Tensor original, Tensor host)
    {
        this.original = original;
        this.host = host;
    }

    public static HostTensor Of(Tensor tensor)
    {
        if (tensor.device_type == DeviceType.CPU && tensor.is_contiguous())
        {
            return new HostTensor(tensor, tensor);
        }
        var staging = empty(tensor.shape, tensor.dtype, CPU);
        if (tensor.device_type == DeviceType.CUDA)
        {
            // Pinned memory lets the device copy run by DMA instead of through a pageable bounce buffer.
            using var pageable = staging;
            staging = pageable.pin_memory();
        }
        staging.copy_(tensor);
        return new HostTensor(tensor, staging);
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
        if (!ReferenceEquals(host, original))
        {
            host.Dispose();
        }
    }
}
