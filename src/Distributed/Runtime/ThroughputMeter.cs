using System.Diagnostics;

namespace Dtrain.Distributed.Runtime;

/// <summary>
/// A rank's samples per second as the rank measures them: from its first step's end to its last, so the first
/// step's warm-up (allocations, the collectives' first connections) is left out, and no poll's timing is in it.
/// </summary>
public sealed class ThroughputMeter
{
    private (long Timestamp, long Samples)? first, last;

    public void Observe(StepReport report)
    {
        var now = (Stopwatch.GetTimestamp(), report.Samples);
        first ??= now;
        last = now;
    }

    /// <summary>0 until two steps were observed: one step has no duration to divide by.</summary>
    public double SamplesPerSecond
    {
        get
        {
            if (first is not var (startedAt, startSamples) || last is not var (endedAt, endSamples) || endedAt == startedAt) return 0;
            return (endSamples - startSamples) / Stopwatch.GetElapsedTime(startedAt, endedAt).TotalSeconds;
        }
    }
}
