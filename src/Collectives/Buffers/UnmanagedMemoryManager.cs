using System.Buffers;

namespace Dtrain.Collectives.Buffers;

/// <summary>
/// Exposes native memory that does not move (a TorchSharp CPU tensor's storage) as <see cref="Memory{T}"/>, so
/// collectives can work on it in place. The owner of the memory must keep it alive while the view is used.
/// </summary>
public sealed unsafe class UnmanagedMemoryManager<T>(T* pointer, int length) : MemoryManager<T>
    where T : unmanaged
{
    public override Span<T> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, length);
        return new MemoryHandle(pointer + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
