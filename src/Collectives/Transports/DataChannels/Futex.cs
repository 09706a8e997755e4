using System.Runtime.InteropServices;

namespace Dtrain.Collectives.Transports.DataChannels;

/// <summary>
/// Linux futexes on words in shared memory: how a process sleeps until another one, which maps the same file,
/// changes a word. .NET has no cross-process wait handle on Linux, and polling would burn the cores the ranks
/// need for their own work.
/// </summary>
internal static unsafe class Futex
{
    private const int WaitOperation = 0, WakeOperation = 1;

    /// <summary>The futex system call's number, or -1 where this code does not know it.</summary>
    private static readonly long SystemCall = !OperatingSystem.IsLinux() ? -1 : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        _ => -1,
    };

    public static bool IsAvailable => SystemCall >= 0;

    /// <summary>Sleeps while *<paramref name="word"/> equals <paramref name="expected"/>, at most <paramref name="timeout"/>; callers check again on return.</summary>
    public static void Wait(int* word, int expected, TimeSpan timeout)
    {
        long ticks = timeout.Ticks;
        var limit = new Timespec { Seconds = ticks / TimeSpan.TicksPerSecond, Nanoseconds = ticks % TimeSpan.TicksPerSecond * 100 };
        _ = Syscall(SystemCall, word, WaitOperation, expected, &limit, null, 0);
    }

    public static void WakeAll(int* word) => _ = Syscall(SystemCall, word, WakeOperation, int.MaxValue, null, null, 0);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "syscall")]
    private static extern long Syscall(long number, int* word, int operation, int value, Timespec* timeout, int* word2, int value3);
}
