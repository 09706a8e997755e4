using System.Diagnostics;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Coordinator.Grains;

namespace Dtrain.Launcher.Monitoring;

/// <summary>A moment of a running job, as the launcher shows it.</summary>
public sealed record JobSnapshot(int Step, int TotalSteps, double Loss, double SamplesPerSecond);

/// <summary>How a job ended: every rank's result, checked to be consistent.</summary>
public sealed record JobOutcome(IReadOnlyList<RankResult> Results, TimeSpan WallTime)
{
    public double FinalLoss => Results[0].FinalLoss;

    public double TestAccuracy => Results[0].TestAccuracy;

    public string ParameterDigest => Results[0].ParameterDigest;

    /// <summary>The one line a finished job ends with.</summary>
    public string Describe(JobSpec job) =>
        $"done: {job.Steps} steps on {job.Workers} workers, final loss {FinalLoss:0.0000}, " +
        $"held-out accuracy {TestAccuracy:P2}, wall time {WallTime.TotalSeconds:0.0} s, " +
        $"parameters identical on all ranks (sha256 {ParameterDigest[..16]})";
}

/// <summary>
/// Follows a job through its grain until every rank reported a result, and checks the ranks agree: data
/// parallelism is only correct if every rank ends with bitwise identical parameters.
/// </summary>
/// <param name="heartbeatTimeout">A rank not heard from for this long is lost.</param>
public sealed class JobWatch(IJobGrain job, int worldSize, int totalSteps, TimeSpan heartbeatTimeout)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Follows the job a coordinator runs, with a progress view, until it completes or fails.</summary>
    /// <param name="observe">Also sees every snapshot.</param>
    public static Task<JobOutcome> FollowAsync(CoordinatorHost coordinator, Func<string?> failure, Action<JobSnapshot> observe, CancellationToken ct)
    {
        var job = coordinator.Options.Job;
        var watch = new JobWatch(coordinator.Grains.GetGrain<IJobGrain>(coordinator.Options.JobId), job.Workers, job.Steps,
            TimeSpan.FromSeconds(job.HeartbeatTimeoutSeconds));
        return ProgressView.ShowAsync(job.Steps, onProgress => watch.WaitAsync(snapshot =>
        {
            onProgress(snapshot);
            observe(snapshot);
        }, failure, ct));
    }

    /// <param name="onProgress">Called with each new snapshot.</param>
    /// <param name="failure">Polled each round: a message when something outside the grain failed (a worker died).</param>
    public async Task<JobOutcome> WaitAsync(Action<JobSnapshot> onProgress, Func<string?> failure, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        (TimeSpan At, long Samples)? first = null;
        while (true)
        {
            var status = await job.GetStatusAsync();
            // Heartbeats before a rank's first step carry no progress.
            var stepping = status.Progress.Where(p => p.Step > 0).ToArray();
            if (stepping.Length > 0)
            {
                long samples = stepping.Sum(p => p.Samples);
                first ??= (started.Elapsed, samples);
                double seconds = (started.Elapsed - first.Value.At).TotalSeconds;
                onProgress(new JobSnapshot(
                    stepping.Min(p => p.Step),
                    totalSteps,
                    stepping.Average(p => p.Loss),
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
            if (status.Progress.FirstOrDefault(p => DateTime.UtcNow - p.HeardAt > heartbeatTimeout) is { } silent)
            {
                throw new DtrainException($"rank {silent.Rank} was lost: no heartbeat for {heartbeatTimeout.TotalSeconds:0.#} s");
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
