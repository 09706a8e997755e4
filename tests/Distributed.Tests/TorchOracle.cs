using System.Runtime;
using TorchSharp;

namespace Dtrain.Tests;

/// <summary>
/// Steps one of TorchSharp's own optimizers, which tests use as oracles. Their step() converts its coefficients to
/// Scalars implicitly, and a garbage collection can finalize such a Scalar while libtorch still reads it: that
/// crashed the test host once, in a fresh-clone CI run. Here no collection starts during the step, unless other
/// threads allocate past the region's budget meanwhile. dtrain's own code steps Dtrain.Optimizers.HeldAdam instead.
/// </summary>
internal static class TorchOracle
{
    private const long Budget = 16 << 20;

    /// <summary>One no-GC region at a time: the runtime refuses a second.</summary>
    private static readonly Lock Gate = new();

    public static void Step(torch.optim.Optimizer optimizer)
    {
        lock (Gate)
        {
            bool held = GC.TryStartNoGCRegion(Budget);
            try
            {
                optimizer.step();
            }
            finally
            {
                // Another thread's allocations may have ended the region with a collection already.
                if (held && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
            }
        }
    }
}
