using System.CommandLine;
using Dtrain.Launcher.Jobs;
using Dtrain.Launcher.Local;

namespace Dtrain.Launcher.Commands;

public static class RunCommand
{
    public static Command Create()
    {
        var jobOptions = new JobOptions();
        var command = new Command("run",
            "Train a job on this machine: starts the coordinator (Orleans silo, gRPC, /metrics) in this process and " +
            "one worker process per rank. Default job: an MLP on a generated classification task, 2 workers, CPU or CUDA.");
        jobOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var job = jobOptions.Resolve(parse);
            var outcome = await LocalJob.RunAsync(job, ct);
            ProgressView.Say(
                $"done: {job.Steps} steps on {job.Workers} workers, final loss {outcome.FinalLoss:0.0000}, " +
                $"held-out accuracy {outcome.TestAccuracy:P2}, wall time {outcome.WallTime.TotalSeconds:0.0} s, " +
                $"parameters identical on all ranks (sha256 {outcome.ParameterDigest[..16]})");
            return 0;
        });
        return command;
    }
}
