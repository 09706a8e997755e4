using System.Diagnostics;
using System.Globalization;
using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Launcher.Commands;
using Dtrain.Launcher.Monitoring;
using Dtrain.Launcher.Runs;

namespace Dtrain.Launcher.Local;

/// <summary>
/// What `dtrain run` runs: the job, its name, the directory it keeps, the command line that resumes it, and the
/// user's program each worker runs (empty: `dtrain worker`, the job's built-in model).
/// </summary>
/// <param name="WorkerMetricsPort">The first worker's /metrics port, the next worker's one more, and so on; null: free ports.</param>
/// <param name="LingerSeconds">How long the coordinator's /metrics stays up after the job ended.</param>
public sealed record LocalRun(
    JobSpec Job, string JobId, RunDirectory Directory, string ResumeCommand, IReadOnlyList<string> Program, int? WorkerMetricsPort = null, double LingerSeconds = 0);

/// <summary>
/// `dtrain run`: the coordinator in this process and one worker process per rank on this machine, the way
/// `torchrun --standalone` runs a job. Whatever happens, no worker process outlives the run. However it ends
/// once its workers started, it says so to the output's <see cref="IRunOutput.Finish"/>.
/// </summary>
public static class LocalJob
{
    private static void SayWhereItResumes(CoordinatorHost coordinator, IRunOutput output)
    {
        var job = coordinator.Options.Job;
        if (!job.Checkpoints.Resume) return;
        foreach (string skipped in coordinator.SkippedCheckpoints) output.Say(skipped);
        output.Say(job.Checkpoints.ResumeStep > 0
            ? $"resuming from {CheckpointStore.DirectoryOf(job.Checkpoints.Dir, job.Checkpoints.ResumeStep)} (step {job.Checkpoints.ResumeStep})"
            : $"no whole checkpoint in {job.Checkpoints.Dir}: starting from step 0");
    }

    public static async Task<JobOutcome> RunAsync(LocalRun run, IRunOutput output, CancellationToken ct)
    {
        var job = run.Job;
        var options = new CoordinatorOptions
        {
            JobId = run.JobId,
            JobToken = JobToken.Derive(JobEnvironment.RunSecret(), run.JobId),
            Job = job,
            Tls = JobEnvironment.Tls(),
        };
        await using var coordinator = await CoordinatorHost.StartAsync(options, ct);
        using var statusClient = StatusClient.Of(coordinator);
        output.Say($"coordinator {coordinator.Address}, metrics {coordinator.MetricsAddress}");
        SayWhereItResumes(coordinator, output);

        // The launch contract, as torchrun's environment: whatever each worker runs joins from it.
        var environment = new Dictionary<string, string>
        {
            [LaunchContract.Coordinator] = coordinator.Address,
            [LaunchContract.WorldSize] = job.Workers.ToString(CultureInfo.InvariantCulture),
            [JobEnvironment.JobId] = options.JobId,
            [JobEnvironment.ParentProcess] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
        };
        var workerCommand = run.Program.Count > 0 ? run.Program : ChildProcess.Self(["worker"]);
        var started = Stopwatch.StartNew();
        using var workers = new WorkerGroup(job, workerCommand, environment, run.WorkerMetricsPort, options.JobToken, output, run.Directory);
        workers.Start();
        var restarts = new RestartReport(job, output);
        JobSnapshot? latest = null;
        RunSummary Summary(string status, (string Directory, long Step)? lastCheckpoint) => new()
        {
            Status = status,
            Steps = latest?.Step ?? 0,
            TotalSteps = job.Steps,
            Workers = job.Workers,
            // The launcher's own poll, until the ranks' measure arrives with their results; none before a second sighting.
            SamplesPerSecond = latest?.SamplesPerSecond > 0 ? latest.SamplesPerSecond : null,
            // The whole job's time, failed epochs and restarts included, not just the last epoch's.
            WallTimeSeconds = started.Elapsed.TotalSeconds,
            Restarts = restarts.Restarts,
            LastCheckpoint = lastCheckpoint?.Directory,
            RunDir = run.Directory.Path,
        };
        try
        {
            var outcome = await JobWatch.FollowAsync(statusClient, job.Steps, output, async status =>
            {
                restarts.Observe(status);
                await workers.SuperviseAsync(status, coordinator);
            }, snapshot =>
            {
                latest = snapshot;
                restarts.Observe(snapshot);
            }, ct);
            await workers.WaitForExitAsync(ct);
            var checkpoint = SayLastCheckpoint(job, await statusClient.GetJobAsync(ct), output);
            started.Stop();
            await LingerOption.WaitAsync(run.LingerSeconds, output.Say, ct);
            outcome = outcome with { WallTime = started.Elapsed };
            output.Finish(Summary(RunSummary.Completed, checkpoint) with
            {
                Steps = job.Steps,
                Workers = outcome.Results.Count,
                FinalLoss = outcome.FinalLoss,
                TestAccuracy = outcome.TestAccuracy,
                SamplesPerSecond = outcome.SamplesPerSecond,
                ParameterDigest = outcome.ParameterDigest,
                Message = outcome.Describe(job),
            });
            return outcome;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            workers.StopAll();
            var checkpoint = LastCheckpoint(job, await statusClient.GetJobAsync(CancellationToken.None));
            string said = "stopped every worker; " + (checkpoint is var (directory, step)
                ? $"last checkpoint: {directory} (step {step}); resume with: {run.ResumeCommand}"
                : "no checkpoint was committed, so a new run starts from step 0");
            output.Finish(Summary(RunSummary.Interrupted, checkpoint) with { Error = said });
            throw new RunInterruptedException(said);
        }
        catch (DtrainException failure)
        {
            // Stopped first, so that nothing a worker prints comes after the summary.
            workers.StopAll();
            await coordinator.FailAsync(failure.Message);
            var failed = await statusClient.GetJobAsync(CancellationToken.None);
            var checkpoint = SayLastCheckpoint(job, failed, output);
            started.Stop();
            await LingerOption.WaitAsync(run.LingerSeconds, output.Say, ct);
            // A worker's own last words say more than its peers' "lost the connection".
            var epochBegan = failed.LastRestart?.At ?? DateTime.MinValue;
            var error = workers.FirstFailureSince(epochBegan) is { } cause && !failure.Message.StartsWith(cause)
                ? new DtrainException($"{cause} ({failure.Message})")
                : failure;
            output.Finish(Summary(RunSummary.Failed, checkpoint) with { Error = error.Message });
            if (error == failure) throw;
            throw error;
        }
    }

    /// <summary>The newest committed checkpoint's directory and step, or null when the run committed none.</summary>
    private static (string Directory, long Step)? LastCheckpoint(JobSpec job, JobView status) =>
        job.Checkpoints.Every > 0 && status.LastCheckpoint is { } directory ? (directory, status.LastCheckpointStep) : null;

    private static (string Directory, long Step)? SayLastCheckpoint(JobSpec job, JobView status, IRunOutput output)
    {
        var checkpoint = LastCheckpoint(job, status);
        if (checkpoint is var (directory, step)) output.Say($"last checkpoint: {directory} (step {step})");
        return checkpoint;
    }
}
