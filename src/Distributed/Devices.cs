using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Distributed;

/// <summary>The TorchSharp device a worker, a benchmark or a test trains on.</summary>
public static class Devices
{
    /// <summary>Resolves cpu | cuda | auto to a TorchSharp device; auto means CUDA when it is available.</summary>
    public static Device Resolve(DeviceKind requested)
    {
        if (requested == DeviceKind.Cpu)
        {
            return CPU;
        }
        bool cuda = IsCudaAvailable();
        return (requested, cuda) switch
        {
            (DeviceKind.Cuda, false) => throw new DtrainException(
                "--device cuda: CUDA is not available (TorchSharp loaded a libtorch without CUDA, or there is no GPU)"),
            (_, true) => CUDA,
            _ => CPU,
        };
    }

    /// <summary>
    /// Whether TorchSharp runs on CUDA here. Asking is safe in a process that goes on to use the CPU: a libtorch
    /// without CUDA only answers no.
    /// </summary>
    public static bool IsCudaAvailable()
    {
        try
        {
            // Must come before the first tensor, or TorchSharp never looks for the CUDA libraries.
            torch.InitializeDeviceType(DeviceType.CUDA);
            return torch.cuda.is_available();
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or DllNotFoundException)
        {
            return false;
        }
    }
}
