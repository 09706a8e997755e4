using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Dtrain.Graph.Sampling;

/// <summary>
/// Software prefetch for loops that read a big array at random: asking for the line of an element some iterations
/// ahead keeps several cache misses in flight, where waiting on each in turn would leave the core idle. A hint
/// only: it never faults and changes no result, and it does nothing where x86's prefetch instruction is missing.
/// </summary>
internal static unsafe class CachePrefetch
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Read<T>(ref readonly T item)
    {
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.AsRef(in item)));
    }
}
