using System.CommandLine;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Launcher.Jobs;
using Dtrain.Launcher.Monitoring;
using Dtrain.Launcher.Options;

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
        }.AcceptListenAddress();
        var jobId = new Option<string>("--job-id") { Description = "the job's name", DefaultValueFactory = _ => "job" };
        var cluster = new Option<string>("--cluster")
        {
            Description = "local: the job's state lives in this process; redis: in Redis (--redis), so that a coordinator restarted with the same flags takes over the running job",
            DefaultValueFactory = _ => "local",
        };
        cluster.AcceptOnlyFromAmong("local", "redis");
        var redis = new Option<string>("--redis")
        {
            Description = "the Redis server of --cluster redis (host:port, or any StackExchange.Redis configuration)",
            DefaultValueFactory = _ => "127.0.0.1:6379",
        };
        var linger = LingerOption.Create();
        var dashboard = new Option<bool>("--dashboard") { Description = "serve the Orleans dashboard (grains, calls, silos) at /dashboard on the metrics port (--port + 1; no token asked)" };
        var command = new Command("coordinator",
            "Run the coordinator alone; workers started elsewhere (`dtrain worker` on other hosts, Kubernetes) join it " +
            $"with the job token that `dtrain token` derives from ${JobEnvironment.JobSecret} and the job id. Exits when every worker reported its result.");
        jobOptions.AddTo(command);
        command.Options.Add(listen);
        command.Options.Add(jobId);
        JobOptions.AcceptJobId(jobId);
        command.Options.Add(cluster);
        command.Options.Add(redis);
        command.Options.Add(dashboard);
        command.Options.Add(linger);
        command.SetAction(async (parse, ct) =>
        {
            var job = jobOptions.Resolve(parse, builtIn: true, Console.Error);
            string id = parse.GetValue(jobId)!;
            await using var coordinator = await CoordinatorHost.StartAsync(new CoordinatorOptions
            {
                JobId = id,
                JobToken = JobToken.Derive(JobEnvironment.RequireJobSecret(), id),
                Job = job,
                ListenAddress = parse.GetValue(listen)!,
                Tls = JobEnvironment.Tls(),
                Redis = parse.GetValue(cluster) == "redis" ? parse.GetValue(redis) : null,
                Dashboard = parse.GetValue(dashboard),
            }, ct);
            var output = new TerminalOutput(showRanks: false);
            output.Say($"coordinator {coordinator.Address}, metrics {coordinator.MetricsAddress}" +
                (coordinator.Options.Dashboard ? $", dashboard {coordinator.DashboardAddress}; " : "; ") +
                (coordinator.TakenOver ?? $"waiting for {job.Workers} workers"));
            var restarts = new RestartReport(job, output);
            using var statusClient = StatusClient.Of(coordinator);
            JobOutcome outcome;
            try
            {
                outcome = await JobWatch.FollowAsync(statusClient, job.Steps, output, status =>
                {
                    restarts.Observe(status);
                    return Task.CompletedTask;
                }, restarts.Observe, ct);
            }
            catch (DtrainException)
            {
                await LingerOption.WaitAsync(parse.GetValue(linger), output.Say, ct);
                throw;
            }
            output.Say(outcome.Describe(job));
            await LingerOption.WaitAsync(parse.GetValue(linger), output.Say, ct);
            return 0;
        });
        return command;
    }
}
