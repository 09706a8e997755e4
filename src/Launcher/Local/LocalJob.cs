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
        Restart? restart = null;
        var sinceRestart = new System.Diagnostics.Stopwatch();
        for (int restarts = 0; ; restarts++)
        {
            var workers = StartWorkers(job, workerArguments, options.JobToken);
            try
            {
                var outcome = await JobWatch.FollowAsync(coordinator, () => ChildProcess.FirstFailure(workers, "worker"), snapshot =>
                {
                    if (restart is null || snapshot.Step <= restart.ResumeStep) return;
                    ProgressView.Say($"epoch {restart.Epoch} trains again: step {snapshot.Step} {sinceRestart.Elapsed.TotalSeconds:0.00} s after the restart began");
                    restart = null;
                }, ct);
                foreach (var worker in workers)
                {
                    await worker.WaitForExitAsync(ct);
                }
                await SayLastCheckpointAsync(coordinator);
                // The whole job's time, failed epochs and restarts included, not just the last epoch's.
                return outcome with { WallTime = started.Elapsed };
            }
            catch (DtrainException failure) when (restarts < job.MaxRestarts)
            {
                // As torchrun's elastic agent: stop the whole worker group, then a new epoch resumes from the newest checkpoint.
                sinceRestart.Restart();
                foreach (var worker in workers) worker.Stop();
                restart = await coordinator.RestartAsync();
                ProgressView.Say($"{failure.Message}; reached step {restart.ReachedStep}, restarting from step {restart.ResumeStep} " +
                    $"({restart.LostSteps} steps lost, restart {restarts + 1} of {job.MaxRestarts})");
            }
            catch (DtrainException failure)
            {
                await coordinator.Grains.GetGrain<IJobGrain>(options.JobId).FailAsync(failure.Message);
                await SayLastCheckpointAsync(coordinator);
                throw;
            }
            finally
            {
                foreach (var worker in workers)
                {
                    worker.Dispose();
                }
            }
        }
    }

    private static List<ChildProcess> StartWorkers(JobSpec job, string[] workerArguments, string jobToken)
    {
        if (job.Transport == "mpi")
        {
            // mpiexec starts (and numbers) the worker processes; they join the coordinator like any other.
            return [ChildProcess.Start(0, workerArguments, jobToken, ProgressView.Say, ["mpiexec.mpich", "-n", job.Workers.ToString()])];
        }
        return Enumerable.Range(0, job.Workers).Select(i => ChildProcess.Start(i, workerArguments, jobToken, ProgressView.Say)).ToList();
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
