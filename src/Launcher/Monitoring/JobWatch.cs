using System.Globalization;
using System.Diagnostics;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;

namespace Dtrain.Launcher.Monitoring;

/// <summary>
/// A moment of a running job, as the launcher shows it: the slowest rank's step, the ranks' mean loss, the
/// samples per second since the epoch began, the time left at the epoch's pace so far (null until it has one), and
/// each rank of the epoch.
/// </summary>
public sealed record JobSnapshot(
    long Epoch, int Step, int TotalSteps, double Loss, double SamplesPerSecond, TimeSpan? Remaining, IReadOnlyList<RankView> Ranks)
{
    /// <summary>Whether the job reached another step (or epoch) since <paramref name="previous"/>; polls in between see the same one.</summary>
    public bool IsNewStepSince(JobSnapshot? previous) => Epoch != previous?.Epoch || Step != previous.Step;
}

/// <summary>How a job ended: every rank's result, checked to be consistent.</summary>
public sealed record JobOutcome(IReadOnlyList<RankResultView> Results, TimeSpan WallTime)
{
    public double FinalLoss => Results[0].FinalLoss;

    public double TestAccuracy => Results[0].TestAccuracy;

    public string ParameterDigest => Results[0].ParameterDigest;

    /// <summary>All ranks' samples per second together, each measured by its rank; null when a rank took too few steps to measure.</summary>
    public double? SamplesPerSecond => Results.All(r => r.SamplesPerSecond > 0) ? Results.Sum(r => r.SamplesPerSecond) : null;

    /// <summary>
    /// The one line a finished job ends with. A job resumed from a checkpoint of its last step (to evaluate it, or to
    /// re-shard it) trains no step and has no final loss; a step's loss that is not finite fails the job before.
    /// </summary>
    public string Describe(JobSpec job)
    {
        var invariant = CultureInfo.InvariantCulture;
        string loss = double.IsNaN(FinalLoss) ? "no step left to train" : string.Create(invariant, $"final loss {FinalLoss:0.0000}");
        return string.Create(invariant,
            $"done: {job.Steps} steps on {Results.Count} workers, {loss}, held-out accuracy {TestAccuracy:P2}, wall time {WallTime.TotalSeconds:0.0} s, " +
            $"parameters identical on all ranks (sha256 {ParameterDigest[..16]})");
    }
}

/// <summary>
/// Follows a job through its coordinator's Status rpc until it completes or fails, and checks the ranks agree: data
/// parallelism is only correct if every rank ends with bitwise identical parameters.
/// </summary>
public sealed class JobWatch(StatusClient coordinator, int totalSteps)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>How long the coordinator may stay unavailable (a coordinator of its cluster lost, seconds to recover) before the watch gives up.</summary>
    private static readonly TimeSpan UnavailableLimit = TimeSpan.FromSeconds(30);

    /// <summary>Follows a job of <paramref name="totalSteps"/> steps, with a progress view, until it completes or fails.</summary>
    /// <param name="supervise">Also sees every status (a launcher reacts to lost and failed workers there).</param>
    /// <param name="observe">Also sees every snapshot.</param>
    public static Task<JobOutcome> FollowAsync(
        StatusClient coordinator, int totalSteps, IRunOutput output, Func<JobView, Task> supervise, Action<JobSnapshot> observe, CancellationToken ct)
    {
        var watch = new JobWatch(coordinator, totalSteps);
        return output.FollowAsync(totalSteps, onProgress => watch.WaitAsync(snapshot =>
        {
            onProgress(snapshot);
            observe(snapshot);
        }, supervise, ct));
    }

    /// <param name="onProgress">Called with each new snapshot.</param>
    /// <param name="supervise">Called with each status; it may throw to end the wait (a worker failed outside the coordinator's view).</param>
    /// <param name="ct">Cancels the wait.</param>
    public async Task<JobOutcome> WaitAsync(Action<JobSnapshot> onProgress, Func<JobView, Task> supervise, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var throughput = new EpochThroughput();
        (long Epoch, TimeSpan At, int Step)? first = null;
        var unavailable = new Stopwatch();
        while (true)
        {
            JobView status;
            try
            {
                status = await coordinator.GetJobAsync(ct);
                unavailable.Reset();
            }
            catch (CoordinatorUnavailableException) when (unavailable.Elapsed < UnavailableLimit)
            {
                unavailable.Start();
                await Task.Delay(PollInterval, ct);
                continue;
            }
            // Heartbeats before a rank's first step carry no progress.
            var stepping = status.Ranks.Where(p => p.Step > 0).ToArray();
            if (stepping.Length > 0)
            {
                int step = stepping.Min(p => p.Step);
                // Each epoch measures its pace afresh.
                if (first?.Epoch != status.Epoch) first = (status.Epoch, started.Elapsed, step);
                double seconds = (started.Elapsed - first.Value.At).TotalSeconds;
                double stepsPerSecond = seconds > 0 ? (step - first.Value.Step) / seconds : 0;
                onProgress(new JobSnapshot(
                    status.Epoch,
                    step,
                    totalSteps,
                    stepping.Average(p => p.Loss),
                    throughput.Observe(status.Epoch, stepping, started.Elapsed),
                    stepsPerSecond > 0 ? TimeSpan.FromSeconds(Math.Max(0, totalSteps - step) / stepsPerSecond) : null,
                    status.Ranks));
            }
            if (status.IsCompleted) return Check(status.Results, started.Elapsed);
            if (status.IsFailed) throw new DtrainException(status.Failure!);
            // Once interrupted, a worker that exits (it may have had the Ctrl-C too) is not failed, nor replaced.
            ct.ThrowIfCancellationRequested();
            await supervise(status);
            await Task.Delay(PollInterval, ct);
        }
    }

    private static JobOutcome Check(IReadOnlyList<RankResultView> results, TimeSpan wallTime)
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
