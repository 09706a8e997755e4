using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Coordinator.Grains;
using Dtrain.Launcher.Monitoring;

namespace Dtrain.Launcher.Local;

/// <summary>
/// `dtrain run`: the coordinator in this process and one worker process per rank on this machine, the way
/// `torchrun --standalone` runs a job. Whatever happens, no worker process outlives the run.
/// </summary>
public static class LocalJob
{
    private static void SayWhereItResumes(CoordinatorHost coordinator)
    {
        var job = coordinator.Options.Job;
        if (!job.Resume) return;
        foreach (string skipped in coordinator.SkippedCheckpoints) ProgressView.Say(skipped);
        ProgressView.Say(job.ResumeStep > 0
            ? $"resuming from {CheckpointStore.DirectoryOf(job.CheckpointDir, job.ResumeStep)} (step {job.ResumeStep})"
            : $"no whole checkpoint in {job.CheckpointDir}: starting from step 0");
    }

    public static async Task<JobOutcome> RunAsync(JobSpec job, string jobId, CancellationToken ct)
    {
        var options = new CoordinatorOptions
        {
            JobId = jobId,
            JobToken = JobToken.Derive(JobEnvironment.RunSecret(), jobId),
            Job = job,
            Tls = JobEnvironment.Tls(),
        };
        await using var coordinator = await CoordinatorHost.StartAsync(options, ct);
        ProgressView.Say($"coordinator {coordinator.Address}, metrics {coordinator.MetricsAddress}");
        SayWhereItResumes(coordinator);

        var workerArguments = new[]
        {
            "worker",
            "--coordinator", coordinator.Address,
            "--job-id", options.JobId,
            "--parent-pid", Environment.ProcessId.ToString(),
        };
        var started = System.Diagnostics.Stopwatch.StartNew();
        using var workers = new WorkerGroup(job, workerArguments, options.JobToken);
        workers.Start();
        var restarts = new RestartReport(job);
        try
        {
            var outcome = await JobWatch.FollowAsync(coordinator, async status =>
            {
                restarts.Observe(status);
                await workers.SuperviseAsync(status, coordinator.Job);
            }, restarts.Observe, ct);
            await workers.WaitForExitAsync(ct);
            await SayLastCheckpointAsync(coordinator);
            // The whole job's time, failed epochs and restarts included, not just the last epoch's.
            return outcome with { WallTime = started.Elapsed };
        }
        catch (DtrainException failure)
        {
            await coordinator.Job.FailAsync(failure.Message);
            await SayLastCheckpointAsync(coordinator);
            // A worker's own last words say more than its peers' "lost the connection".
            if (workers.LatestFailure() is { } cause && !failure.Message.StartsWith(cause)) throw new DtrainException($"{cause} ({failure.Message})");
            throw;
        }
    }

    private static async Task SayLastCheckpointAsync(CoordinatorHost coordinator)
    {
        var job = coordinator.Options.Job;
        if (job.CheckpointEvery > 0 && await coordinator.LastCheckpointAsync() is > 0 and var step)
        {
            ProgressView.Say($"last checkpoint: {CheckpointStore.DirectoryOf(job.CheckpointDir, step)} (step {step})");
        }
    }
}
