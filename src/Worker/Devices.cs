using Dtrain.Contracts;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Worker;

public static class Devices
{
    /// <summary>Resolves cpu | cuda | auto to a TorchSharp device; auto means CUDA when it is available.</summary>
    public static Device Resolve(string requested)
    {
        if (requested == "cpu")
        {
            return CPU;
        }
        bool cuda = CudaAvailable();
        return (requested, cuda) switch
        {
            ("cuda", false) => throw new DtrainException(
                "--device cuda: CUDA is not available (TorchSharp loaded a libtorch without CUDA, or there is no GPU)"),
            (_, true) => CUDA,
            _ => CPU,
        };
    }

    private static bool CudaAvailable()
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
