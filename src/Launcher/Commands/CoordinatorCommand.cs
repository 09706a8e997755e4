using System.CommandLine;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Launcher.Jobs;
using Dtrain.Launcher.Monitoring;

namespace Dtrain.Launcher.Commands;

public static class CoordinatorCommand
{
    public static Command Create()
    {
        var jobOptions = new JobOptions();
        var listen = new Option<string>("--listen")
        {
            Description = "address the coordinator's endpoints listen on (0.0.0.0 to accept workers on other hosts)",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var jobId = new Option<string>("--job-id") { Description = "the job's name", DefaultValueFactory = _ => "job" };
        var command = new Command("coordinator",
            "Run the coordinator alone; workers started elsewhere (`dtrain worker` on other hosts, Kubernetes) join it " +
            $"with the job token that `dtrain token` derives from ${JobEnvironment.JobSecret} and the job id. Exits when every worker reported its result.");
        jobOptions.AddTo(command);
        command.Options.Add(listen);
        command.Options.Add(jobId);
        command.SetAction(async (parse, ct) =>
        {
            var job = jobOptions.Resolve(parse);
            string id = parse.GetValue(jobId)!;
            await using var coordinator = await CoordinatorHost.StartAsync(new CoordinatorOptions
            {
                JobId = id,
                JobToken = JobToken.Derive(JobEnvironment.RequireJobSecret(), id),
                Job = job,
                ListenAddress = parse.GetValue(listen)!,
                Tls = JobEnvironment.Tls(),
            }, ct);
            ProgressView.Say($"coordinator {coordinator.Address}, metrics {coordinator.MetricsAddress}; waiting for {job.Workers} workers");
            var restarts = new RestartReport(job);
            var outcome = await JobWatch.FollowAsync(coordinator, status =>
            {
                restarts.Observe(status);
                return Task.CompletedTask;
            }, restarts.Observe, ct);
            ProgressView.Say(outcome.Describe(job));
            return 0;
        });
        return command;
    }
}
