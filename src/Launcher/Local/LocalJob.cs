using Dtrain.Contracts;
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
