using Dtrain.Contracts.Jobs;
using Dtrain.Worker;
using static TorchSharp.torch;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// TorchSharp's per-process state (seed, thread count, device) for benchmark ranks, which may share one process
/// (inproc): they take turns under <see cref="Lock"/>.
/// </summary>
internal static class BenchTorch
{
    public static readonly Lock Lock = new();

    /// <summary>A rank's share of this machine's cores (one rank gets all of them) and its device.</summary>
    public static (Device Device, int Threads) ForRank(string device, int ranks)
    {
        int threads = Math.Max(1, Environment.ProcessorCount / ranks);
        lock (Lock)
        {
            set_num_threads(threads);
            return (Devices.Resolve(Enum.Parse<DeviceKind>(device, ignoreCase: true)), threads);
        }
    }
}
