using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
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

    public static async Task<JobOutcome> RunAsync(JobSpec job, CancellationToken ct)
    {
        var options = new CoordinatorOptions
        {
            JobId = $"job-{Guid.NewGuid():N}"[..12],
            JobToken = JobToken.Generate(),
            Job = job,
        };
        await using var coordinator = await CoordinatorHost.StartAsync(options, ct);
        ProgressView.Say($"coordinator {coordinator.Address}, metrics {coordinator.MetricsAddress}");
        SayWhereItResumes(coordinator);

        var workerArguments = new[]
        {
            "worker",
            "--coordinator", coordinator.Address,
            "--parent-pid", Environment.ProcessId.ToString(),
        };
        var workers = new List<ChildProcess>();
        try
        {
            if (job.Transport == "mpi")
            {
                // mpiexec starts (and numbers) the worker processes; they join the coordinator like any other.
                workers.Add(ChildProcess.Start(0, workerArguments, options.JobToken, ProgressView.Say, ["mpiexec.mpich", "-n", job.Workers.ToString()]));
            }
            else
            {
                for (int i = 0; i < job.Workers; i++)
                {
                    workers.Add(ChildProcess.Start(i, workerArguments, options.JobToken, ProgressView.Say));
                }
            }
            var outcome = await JobWatch.FollowAsync(coordinator, () => ChildProcess.FirstFailure(workers, "worker"), ct);
            foreach (var worker in workers)
            {
                await worker.WaitForExitAsync(ct);
            }
            if (job.CheckpointEvery > 0 && await coordinator.LastCheckpointAsync() is > 0 and var step)
            {
                ProgressView.Say($"last checkpoint: {CheckpointStore.DirectoryOf(job.CheckpointDir, step)} (step {step})");
            }
            return outcome;
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
