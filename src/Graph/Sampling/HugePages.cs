using System.Runtime.InteropServices;

namespace Dtrain.Graph.Sampling;

/// <summary>
/// Asks Linux to back a large array that sampling reads at random with 2 MiB pages (transparent huge pages). With
/// 4 KiB pages nearly every random read into a graph's hundreds of megabytes misses the TLB as well as the cache,
/// and in a virtual machine a TLB miss is a two-level page walk. A hint, best effort: where the platform, the kernel
/// or its settings do not allow it, nothing changes; results never do.
/// </summary>
internal static unsafe partial class HugePages
{
    private const long Size = 2 << 20;
    private const int AdviseHugePages = 14; // MADV_HUGEPAGE: the default "madvise" setting only gives them to ranges that ask
    private const int Collapse = 25; // MADV_COLLAPSE (Linux 6.1): rebuild the range's present pages as huge pages now

    public static void Request<T>(T[]? array) where T : unmanaged
    {
        if (array is null || !OperatingSystem.IsLinux() || (long)array.Length * sizeof(T) < Size) return;
        // An array this large lives in the large object heap, which the GC does not move unless told to compact it;
        // if it ever did, only the hint would be lost.
        fixed (T* data = array)
        {
            long start = ((long)data + Size - 1) & -Size, end = ((long)data + (long)array.Length * sizeof(T)) & -Size;
            if (end <= start) return;
            try
            {
                if (Advise((nint)start, (nuint)(end - start), AdviseHugePages) == 0) Advise((nint)start, (nuint)(end - start), Collapse);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // no usable libc: stay on small pages
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Advise(nint address, nuint length, int advice);
}
