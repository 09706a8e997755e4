using System.Diagnostics;
using Dtrain.Contracts;
using Dtrain.Coordinator.Grains;

namespace Dtrain.Launcher.Local;

/// <summary>A moment of a running job, as the launcher shows it.</summary>
public sealed record JobSnapshot(int Step, int TotalSteps, double Loss, double SamplesPerSecond);

/// <summary>How a job ended: every rank's result, checked to be consistent.</summary>
public sealed record JobOutcome(IReadOnlyList<RankResult> Results, TimeSpan WallTime)
{
    public double FinalLoss => Results[0].FinalLoss;

    public double TestAccuracy => Results[0].TestAccuracy;

    public string ParameterDigest => Results[0].ParameterDigest;
}

/// <summary>
/// Follows a job through its grain until every rank reported a result, and checks the ranks agree: data
/// parallelism is only correct if every rank ends with bitwise identical parameters.
/// </summary>
public sealed class JobWatch(IJobGrain job, int worldSize, int totalSteps)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <param name="onProgress">Called with each new snapshot.</param>
    /// <param name="failure">Polled each round: a message when something outside the grain failed (a worker died).</param>
    public async Task<JobOutcome> WaitAsync(Action<JobSnapshot> onProgress, Func<string?> failure, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        (TimeSpan At, long Samples)? first = null;
        while (true)
        {
            var status = await job.GetStatusAsync();
            if (status.Progress.Count > 0)
            {
                long samples = status.Progress.Sum(p => p.Samples);
                first ??= (started.Elapsed, samples);
                double seconds = (started.Elapsed - first.Value.At).TotalSeconds;
                onProgress(new JobSnapshot(
                    status.Progress.Min(p => p.Step),
                    totalSteps,
                    status.Progress.Average(p => p.Loss),
                    seconds > 0 ? (samples - first.Value.Samples) / seconds : 0));
            }
            if (status.Results.Count == worldSize)
            {
                return Check(status.Results, started.Elapsed);
            }
            if (failure() is { } message)
            {
                throw new DtrainException(message);
            }
            await Task.Delay(PollInterval, ct);
        }
    }

    private static JobOutcome Check(IReadOnlyList<RankResult> results, TimeSpan wallTime)
    {
        var digests = results.Select(r => r.ParameterDigest).Distinct().ToList();
        if (digests.Count != 1)
        {
            throw new DtrainException(
                $"the ranks ended with different parameters ({digests.Count} distinct digests): gradients were not averaged identically");
        }
        return new JobOutcome(results, wallTime);
    }
}
