using System.Diagnostics;
using Dtrain.Collectives.Algorithms;
using Dtrain.Telemetry;

namespace Dtrain.Collectives;

/// <summary>The collective operations a training program calls, timed and counted in the dtrain_collective_* metrics.</summary>
public static class Collective
{
    /// <summary>Reduces <paramref name="data"/> element-wise across all ranks, in place, with the ring algorithm.</summary>
    public static async Task AllReduceAsync(
        this ICommunicator comm, Memory<float> data, ReduceOp op, CancellationToken cancellationToken = default)
    {
        long started = Stopwatch.GetTimestamp();
        await RingAllReduce.RunAsync(comm, data, op, cancellationToken);
        DtrainMetrics.CollectiveDuration.WithLabels("all_reduce", comm.Transport)
            .Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        DtrainMetrics.CollectiveBytes.WithLabels("all_reduce", comm.Transport).Inc(data.Length * sizeof(float));
    }
}
