using System.CommandLine;
using Dtrain.Contracts.Network;
using Dtrain.Distributed;
using Dtrain.Launcher.Jobs;
using Dtrain.Launcher.Options;
using Dtrain.Worker;

namespace Dtrain.Launcher.Commands;

public static class WorkerCommand
{
    public static Command Create()
    {
        var coordinator = new Option<string?>("--coordinator")
        {
            Description = "the coordinator's gRPC address, e.g. http://127.0.0.1:29500 (default: $DTRAIN_COORDINATOR, or http://$MASTER_ADDR:$MASTER_PORT)",
        };
        var rank = new Option<int?>("--rank")
        {
            Description = "this worker's rank (default: $DTRAIN_RANK, $RANK, $PET_NODE_RANK, $JOB_COMPLETION_INDEX or the MPI rank; none: the coordinator assigns one)",
        };
        var worldSize = new Option<int?>("--world-size")
        {
            Description = "the number of workers, checked against the coordinator's job (default: $DTRAIN_WORLD_SIZE, $WORLD_SIZE, $PET_NNODES or the MPI size)",
        };
        var connectTimeout = new Option<double>("--connect-timeout")
        {
            Description = "seconds to keep trying to reach the coordinator until it first answers",
            DefaultValueFactory = _ => 30,
        }.AcceptSeconds();
        var coordinatorLossTimeout = new Option<double>("--coordinator-loss-timeout")
        {
            Description = "seconds to keep retrying a coordinator that answered before and then stopped (long enough for a takeover on Redis); " +
                $"then the worker exits with code {ExitCodes.CoordinatorLost} (default: ${JobEnvironment.CoordinatorLossSeconds}, " +
                $"else {JobEnvironment.DefaultCoordinatorLossTimeout.TotalSeconds})",
            DefaultValueFactory = _ => JobEnvironment.CoordinatorLossTimeout().TotalSeconds,
        }.AcceptSeconds();
        var listen = new Option<string>("--listen") { Description = "address the worker's endpoints listen on", DefaultValueFactory = _ => "127.0.0.1" }.AcceptListenAddress();
        var advertise = new Option<string>("--advertise") { Description = "host name or IP peers use to reach this worker", DefaultValueFactory = _ => "127.0.0.1" }.AcceptHost();
        var peerPort = new Option<int>("--peer-port") { Description = "port of the peer (collectives) endpoint; 0 picks a free one" }.AcceptPort(zeroPicksFree: true);
        var metricsPort = new Option<int>("--metrics-port")
        {
            Description = $"port of this worker's /metrics; 0 picks a free one (default: ${JobEnvironment.MetricsPort}, else 0)",
            DefaultValueFactory = _ => JobEnvironment.MetricsPortOrAny(),
        }.AcceptPort(zeroPicksFree: true);
        var parentPid = new Option<int?>("--parent-pid")
        {
            Description = $"exit when this process (the launcher) is gone (default: ${JobEnvironment.ParentProcess})",
            DefaultValueFactory = _ => JobEnvironment.ParentProcessId(),
        };
        var jobId = new Option<string?>("--job-id")
        {
            Description = $"the job to join; a coordinator running another job refuses the worker (default: ${JobEnvironment.JobId}; none: no check)",
            DefaultValueFactory = _ => JobEnvironment.Value(JobEnvironment.JobId),
        };

        var command = new Command("worker",
            $"Run one rank of a job: join the coordinator, train, report. The job token is read from ${JobEnvironment.JobToken}.")
        {
            coordinator, rank, worldSize, connectTimeout, coordinatorLossTimeout, listen, advertise, peerPort, metricsPort, parentPid, jobId,
        };
        JobOptions.AcceptJobId(jobId, orEmpty: true);
        command.SetAction(async (parse, ct) =>
        {
            string token = JobEnvironment.RequireJobToken();
            var tls = JobEnvironment.Tls();
            var launched = LaunchContract.Resolve(
                (parse.GetValue(rank), parse.GetValue(worldSize), parse.GetValue(coordinator)), ProcessEnvironment.Variables(), tls.Scheme);
            var options = new WorkerOptions
            {
                Coordinator = launched.Coordinator,
                Rank = launched.Rank,
                WorldSize = launched.WorldSize,
                JobToken = token,
                JobId = parse.GetValue(jobId) ?? "",
                Tls = tls,
                ConnectTimeout = TimeSpan.FromSeconds(parse.GetValue(connectTimeout)),
                CoordinatorLossTimeout = TimeSpan.FromSeconds(parse.GetValue(coordinatorLossTimeout)),
                ListenAddress = parse.GetValue(listen)!,
                AdvertiseHost = parse.GetValue(advertise)!,
                PeerPort = parse.GetValue(peerPort),
                MetricsPort = parse.GetValue(metricsPort),
                ParentProcessId = parse.GetValue(parentPid),
            };
            await WorkerRunner.RunAsync(options, Console.Out, ct);
            return 0;
        });
        return command;
    }
}
