using System.Buffers;
using System.Runtime.InteropServices;

namespace Dtrain.Collectives.Buffers;

/// <summary>Views a <see cref="Memory{T}"/> of one unmanaged type as memory of another, without copying.</summary>
internal sealed class CastMemoryManager<TFrom, TTo>(Memory<TFrom> source) : MemoryManager<TTo>
    where TFrom : unmanaged
    where TTo : unmanaged
{
    public override Span<TTo> GetSpan() => MemoryMarshal.Cast<TFrom, TTo>(source.Span);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        if (elementIndex != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(elementIndex), "only the start of a cast view can be pinned");
        }
        return source.Pin();
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}

public static class MemoryCasts
{
    /// <summary>The same memory, seen as bytes.</summary>
    public static Memory<byte> AsBytes<T>(this Memory<T> memory) where T : unmanaged =>
        new CastMemoryManager<T, byte>(memory).Memory;
}
