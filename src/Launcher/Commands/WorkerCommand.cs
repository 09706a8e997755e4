using System.CommandLine;
using Dtrain.Worker;

namespace Dtrain.Launcher.Commands;

public static class WorkerCommand
{
    public static Command Create()
    {
        var coordinator = new Option<string>("--coordinator")
        {
            Description = "the coordinator's gRPC address, e.g. http://127.0.0.1:29500",
            Required = true,
        };
        var connectTimeout = new Option<double>("--connect-timeout")
        {
            Description = "seconds to keep trying to reach the coordinator",
            DefaultValueFactory = _ => 30,
        };
        var listen = new Option<string>("--listen") { Description = "address the worker's endpoints listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var advertise = new Option<string>("--advertise") { Description = "host name or IP peers use to reach this worker", DefaultValueFactory = _ => "127.0.0.1" };
        var peerPort = new Option<int>("--peer-port") { Description = "port of the peer (collectives) endpoint; 0 picks a free one" };
        var metricsPort = new Option<int>("--metrics-port") { Description = "port of this worker's /metrics; 0 picks a free one" };
        var parentPid = new Option<int?>("--parent-pid") { Description = "exit when this process (the launcher) is gone" };
        var jobId = new Option<string?>("--job-id")
        {
            Description = $"the job to join; a coordinator running another job refuses the worker (default: ${JobEnvironment.JobId}; none: no check)",
            DefaultValueFactory = _ => JobEnvironment.Value(JobEnvironment.JobId),
        };

        var command = new Command("worker",
            $"Run one rank of a job: join the coordinator, train, report. The job token is read from ${JobEnvironment.JobToken}.")
        {
            coordinator, connectTimeout, listen, advertise, peerPort, metricsPort, parentPid, jobId,
        };
        command.SetAction(async (parse, ct) =>
        {
            string token = JobEnvironment.RequireJobToken();
            var options = new WorkerOptions
            {
                Coordinator = parse.GetValue(coordinator)!,
                JobToken = token,
                JobId = parse.GetValue(jobId) ?? "",
                Tls = JobEnvironment.Tls(),
                ConnectTimeout = TimeSpan.FromSeconds(parse.GetValue(connectTimeout)),
                ListenAddress = parse.GetValue(listen)!,
                AdvertiseHost = parse.GetValue(advertise)!,
                PeerPort = parse.GetValue(peerPort),
                MetricsPort = parse.GetValue(metricsPort),
                ParentProcessId = parse.GetValue(parentPid),
            };
            if (options.ParentProcessId is { } parent)
            {
                ParentWatch.Start(parent, Console.Error);
            }
            await WorkerRunner.RunAsync(options, Console.Out, ct);
            return 0;
        });
        return command;
    }
}
