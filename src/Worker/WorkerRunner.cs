using Dtrain.Collectives;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Collectives.Transports.Mpi;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Telemetry;
using Dtrain.Worker.Training;

namespace Dtrain.Worker;

/// <summary>
/// One rank's life: open the peer endpoint, join the job, learn rank and peers at the rendezvous, connect to
/// the peers, train, report the result, leave.
/// </summary>
public static class WorkerRunner
{
    public static async Task<TrainingResult> RunAsync(WorkerOptions options, TextWriter log, CancellationToken ct)
    {
        DtrainMetrics.PublishBuildInfo("worker");
        var inbox = new PeerInbox(options.JobToken);
        await using var endpoint = await WorkerEndpoint.StartAsync(
            inbox, options.ListenAddress, options.AdvertiseHost, options.PeerPort, options.MetricsPort, options.Tls, ct);
        await using var coordinator = new CoordinatorLink(options);

        var mpi = MpiEnvironment.Current;
        var joined = await coordinator.JoinAsync(endpoint.PeerAddress, mpi.IsLaunchedByMpi ? mpi.Rank : null, ct);
        var job = JobSpec.FromSettings(joined.Settings);
        var device = Devices.Resolve(job.Device);
        var assignment = await coordinator.RendezvousAsync(joined.WorkerId, ct);
        DtrainMetrics.WorldSize.Set(assignment.WorldSize);
        log.WriteLine($"rank {assignment.Rank}/{assignment.WorldSize} on {device.type.ToString().ToLowerInvariant()}, metrics at {endpoint.MetricsAddress}");

        var collectiveOptions = new CommunicatorOptions { Timeout = TimeSpan.FromSeconds(job.CollectiveTimeoutSeconds) };
        await using var comm = job.Transport == "mpi"
            ? OpenMpi(mpi, assignment.Rank, collectiveOptions)
            : GrpcCommunicator.CreateWorld(new GrpcTransport(assignment.Rank, assignment.PeerAddresses, inbox, options.JobToken, new GrpcTransportOptions { Tls = options.Tls }), collectiveOptions);
        StepReport? latest = null;
        using var stopReporting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reporting = coordinator.ReportProgressAsync(assignment.Rank, () => latest, stopReporting.Token);

        var progress = new Progress(report => latest = report);
        var checkpoint = new DataParallelCheckpoint(job, coordinator.ReportCheckpointAsync);
        var result = job.Model switch
        {
            "cannon-mlp" => await new TensorParallelTrainer(comm, job, device).TrainAsync(progress, ct),
            "graphsage" => await new GraphTrainer(comm, job, device, GraphInputs.LoadPartition(job, assignment.Rank, assignment.WorldSize),
                new GraphPeers(endpoint.Graph, assignment.PeerAddresses, options.JobToken, options.Tls, collectiveOptions.Timeout), checkpoint).TrainAsync(progress, ct),
            _ => await new DataParallelTrainer(comm, job, device, checkpoint).TrainAsync(progress, ct),
        };

        stopReporting.Cancel();
        await reporting;
        await coordinator.FinishAsync(assignment.Rank, result, ct);
        return result;
    }

    /// <summary>The MPI world, whose ranks the rendezvous adopted (each worker asked for its MPI rank).</summary>
    private static Communicator OpenMpi(MpiEnvironment mpi, int rank, CommunicatorOptions options)
    {
        if (!mpi.IsLaunchedByMpi)
        {
            throw new DtrainException("the job's transport is mpi, but this worker was not started by mpiexec or mpirun");
        }
        var comm = MpiCommunicator.CreateWorld(options);
        if (comm.Rank != rank)
        {
            throw new DtrainException($"MPI rank {comm.Rank} was given job rank {rank}");
        }
        return comm;
    }

    /// <summary>Records synchronously; <see cref="Progress{T}"/> would post to the thread pool and reorder reports.</summary>
    private sealed class Progress(Action<StepReport> record) : IProgress<StepReport>
    {
        public void Report(StepReport value) => record(value);
    }
}
