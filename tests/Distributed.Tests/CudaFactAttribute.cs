using Dtrain.Worker;

namespace Dtrain.Tests;

/// <summary>
/// A test that needs a CUDA device. Where TorchSharp finds none (the CI machines: their libtorch is CPU-only) it is
/// reported as skipped with the reason, never passed silently.
/// </summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!Cuda.Available) Skip = "needs a CUDA device (see README: CUDA)";
    }
}

/// <summary>A test of what a host without CUDA does: skipped where a CUDA device exists.</summary>
public sealed class WithoutCudaFactAttribute : FactAttribute
{
    public WithoutCudaFactAttribute()
    {
        if (Cuda.Available) Skip = "checks a host without CUDA, and this one has a CUDA device";
    }
}

internal static class Cuda
{
    private static readonly Lazy<bool> Availability = new(Devices.IsCudaAvailable);

    /// <summary>Asked once per test process; the answer cannot change while it runs.</summary>
    public static bool Available => Availability.Value;
}
