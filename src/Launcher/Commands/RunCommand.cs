using System.CommandLine;
using Dtrain.Launcher.Jobs;
using Dtrain.Launcher.Local;
using Dtrain.Launcher.Monitoring;

namespace Dtrain.Launcher.Commands;

public static class RunCommand
{
    public static Command Create()
    {
        var jobOptions = new JobOptions();
        var jobId = new Option<string>("--job-id")
        {
            Description = "the job's name, from which the job token is derived (`dtrain token`); default: job- and a random suffix",
            DefaultValueFactory = _ => $"job-{Guid.NewGuid():N}"[..12],
        };
        var command = new Command("run",
            "Train a job on this machine: starts the coordinator (Orleans silo, gRPC, /metrics) in this process and " +
            "one worker process per rank. Default job: an MLP on a generated classification task, 2 workers, CPU or CUDA.");
        jobOptions.AddTo(command);
        command.Options.Add(jobId);
        command.SetAction(async (parse, ct) =>
        {
            var job = jobOptions.Resolve(parse);
            var outcome = await LocalJob.RunAsync(job, parse.GetValue(jobId)!, ct);
            ProgressView.Say(outcome.Describe(job));
            return 0;
        });
        return command;
    }
}
