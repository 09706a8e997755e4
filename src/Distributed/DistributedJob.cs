using Dtrain.Collectives;
using Dtrain.Collectives.Transports.DataChannels;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Collectives.Transports.Mpi;
using Dtrain.Contracts;
using Dtrain.Contracts.Network;
using Dtrain.Contracts.Jobs;
using Dtrain.Distributed.Runtime;
using Dtrain.Hosting;
using Dtrain.Telemetry;

namespace Dtrain.Distributed;

/// <summary>
/// A worker process's membership in a training job. <see cref="InitAsync(CancellationToken)"/> reads the launch
/// contract (what `dtrain run`, torchrun, a PyTorchJob, an Indexed Job or mpiexec set), opens this worker's peer
/// endpoint and /metrics, and finds the coordinator. <see cref="RunAsync"/> joins, waits for the other ranks, and
/// runs the training function with a <see cref="DistributedContext"/>; progress reports double as heartbeats.
/// <para>
/// Elastic restarts: when a peer is lost (or the coordinator starts the next epoch), the epoch's communicator
/// fails; this worker aborts it, rejoins, and runs the training function again in the new epoch, which loads the
/// newest committed checkpoint (<see cref="Checkpoints.JobCheckpoints.Load"/>) and trains on from there.
/// </para>
/// </summary>
public sealed class DistributedJob : IAsyncDisposable
{
    private readonly WorkerOptions options;
    private readonly PeerInbox inbox;
    private readonly WorkerEndpoint endpoint;
    private readonly CoordinatorLink coordinator;
    private readonly TextWriter log;

    private DistributedJob(WorkerOptions options, PeerInbox inbox, WorkerEndpoint endpoint, CoordinatorLink coordinator, TextWriter log) =>
        (this.options, this.inbox, this.endpoint, this.coordinator, this.log) = (options, inbox, endpoint, coordinator, log);

    /// <summary>Where this worker's /metrics are served.</summary>
    public string MetricsAddress => endpoint.MetricsAddress;

    /// <summary>Joins the job this process was launched into, as its launcher described it in the environment.</summary>
    /// <exception cref="UsageException">The environment does not describe a job (no coordinator address, no job token).</exception>
    public static Task<DistributedJob> InitAsync(CancellationToken ct = default) => InitAsync(WorkerOptions.FromEnvironment(), Console.Out, [], ct);

    /// <param name="services">Served on this worker's endpoint beside the peer transport.</param>
    public static async Task<DistributedJob> InitAsync(WorkerOptions options, TextWriter log, IReadOnlyList<IEndpointService> services, CancellationToken ct)
    {
        DtrainMetrics.PublishBuildInfo("worker");
        DtrainMetrics.ExposeRejectionCounters("worker");
        if (options.ParentProcessId is { } parent) ParentWatch.Start(parent, Console.Error);
        var inbox = new PeerInbox(options.JobToken, System.Net.IPAddress.Parse(options.ListenAddress));
        try
        {
            var endpoint = await WorkerEndpoint.StartAsync(
                inbox, options.ListenAddress, options.AdvertiseHost, options.PeerPort, options.MetricsPort, options.Tls, services, ConnectionLimits.Default, ct);
            return new DistributedJob(options, inbox, endpoint, new CoordinatorLink(options), log);
        }
        catch
        {
            inbox.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="train"/> in each membership epoch until it returns: its result is reported to the
    /// coordinator (the job completes when every rank has reported). A training function that throws a
    /// <see cref="DtrainException"/> fails the job with that message.
    /// </summary>
    public async Task<TrainingResult> RunAsync(Func<DistributedContext, CancellationToken, Task<TrainingResult>> train, CancellationToken ct = default)
    {
        while (true)
        {
            var joined = await coordinator.JoinAsync(endpoint.PeerAddress, options.Rank, ct);
            var job = JobJson.Deserialize(joined.Job);
            if (options.WorldSize is { } launched && launched != job.Workers)
            {
                throw new DtrainException($"this worker was launched as one of {launched} workers, but the coordinator's job has {job.Workers}");
            }
            // Before the rendezvous: the coordinator watches this worker's heartbeats from its rank assignment on, and
            // resolving the device loads libtorch, which takes seconds when many workers start on a loaded machine.
            var device = Devices.Resolve(job.Device);
            var assignment = await coordinator.RendezvousAsync(joined.WorkerId, ct);
            var epoch = new Epoch(assignment.Epoch, joined.WorkerId, assignment.Rank, assignment.WorldSize);
            try
            {
                if (await TrainAsync(job, epoch, device, assignment.PeerAddresses, train, ct) is { } result) return result;
            }
            finally
            {
                inbox.Retire(epoch.Number);
            }
        }
    }

    /// <summary>Trains in one epoch: the result, or null when the epoch broke and the worker must rejoin.</summary>
    private async Task<TrainingResult?> TrainAsync(
        JobSpec job, Epoch epoch, TorchSharp.torch.Device device, IReadOnlyList<string> peers, Func<DistributedContext, CancellationToken, Task<TrainingResult>> train,
        CancellationToken ct)
    {
        DtrainMetrics.WorldSize.Set(epoch.WorldSize);
        log.WriteLine($"rank {epoch.Rank}/{epoch.WorldSize} of epoch {epoch.Number} on {device.type.ToString().ToLowerInvariant()}, metrics at {endpoint.MetricsAddress}");

        var collectiveOptions = new CommunicatorOptions { Timeout = TimeSpan.FromSeconds(job.CollectiveTimeoutSeconds) };
        await using var comm = job.Transport == TransportKind.Mpi
            ? OpenMpi(epoch.Rank, collectiveOptions)
            : GrpcCommunicator.CreateWorld(
                new GrpcTransport(epoch.Rank, peers, inbox, options.JobToken,
                    new GrpcTransportOptions { Tls = options.Tls, DataChannel = DataChannels.Parse(JobJson.Name(job.DataChannel)) }, epoch.Number),
                collectiveOptions);
        using var epochEnded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        StepReport? latest = null;
        using var stopReporting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reporting = coordinator.ReportProgressAsync(epoch, () => latest, epochEnded.Cancel, stopReporting.Token);
        // Without its coordinator (silent for longer than the coordinator loss timeout) the worker stops training.
        _ = reporting.ContinueWith(_ => epochEnded.Cancel(), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        try
        {
            var throughput = new ThroughputMeter();
            var progress = new Progress(report =>
            {
                latest = report;
                throughput.Observe(report);
            });
            var context = new DistributedContext(options, coordinator, job, epoch, peers, device, comm, progress);
            var result = await train(context, epochEnded.Token);
            stopReporting.Cancel();
            await reporting;
            await coordinator.FinishAsync(epoch, result, throughput.SamplesPerSecond, ct);
            return result;
        }
        // Whatever broke the training once the coordinator was lost (the cancellation, or a peer that gave up on it
        // first), the loss is why this worker stops: it neither ends the epoch nor rejoins.
        catch (Exception) when (reporting.IsFaulted)
        {
            await reporting;   // throws why the coordinator was lost
            throw;
        }
        // MPI cannot survive a lost rank: mpiexec ends them all, and its launcher restarts the group.
        catch (Exception broken) when (comm.SurvivesLostPeers && EndsTheEpoch(broken, epochEnded.Token, ct))
        {
            // Peers blocked on this rank fail at once instead of waiting out their collective timeout.
            comm.Abort();
            string reason = epochEnded.IsCancellationRequested ? "the coordinator started the next epoch" : broken.Message;
            log.WriteLine($"rank {epoch.Rank} leaves epoch {epoch.Number} ({reason}) and rejoins");
            await coordinator.EndEpochAsync(epoch, $"rank {epoch.Rank}: {reason}", ct);
            return null;
        }
        catch (Exception failure) when (failure is not (OperationCanceledException or CoordinatorLostException) && !EndsTheEpoch(failure, epochEnded.Token, ct))
        {
            // Said before this process winds down (which may take its endpoint's shutdown timeout), so that the job
            // fails for this reason rather than for the heartbeats that stopped. A training function's own bug is
            // named by its type; its stack stays in this worker's log.
            string message = failure is DtrainException ? failure.Message : $"{failure.GetType().Name}: {failure.Message.Split('\n')[0]}";
            await TellFailureAsync(epoch, $"rank {epoch.Rank}: {message}");
            throw;
        }
        finally
        {
            stopReporting.Cancel();
            await reporting.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Best effort: the worker's own error stays what it reports, even when the coordinator cannot be told.</summary>
    private async Task TellFailureAsync(Epoch epoch, string reason)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await coordinator.FailAsync(epoch, reason, patience.Token);
        }
        catch (Exception e) when (e is DtrainException or OperationCanceledException or Grpc.Core.RpcException)
        {
            log.WriteLine($"could not tell the coordinator why this worker fails: {e.Message}");
        }
    }

    /// <summary>
    /// Whether <paramref name="e"/> means the epoch is broken rather than the job: a peer was lost or stopped
    /// answering (a collective failed, or a service of another rank could not be reached), or the coordinator moved on.
    /// </summary>
    private static bool EndsTheEpoch(Exception e, CancellationToken epochEnded, CancellationToken ct) => e switch
    {
        CollectiveException or PeerUnreachableException or EpochEndedException => true,
        OperationCanceledException => epochEnded.IsCancellationRequested && !ct.IsCancellationRequested,
        _ => false,
    };

    /// <summary>The MPI world, whose ranks the rendezvous adopted (each worker asked for the rank its launcher gave it).</summary>
    private static Communicator OpenMpi(int rank, CommunicatorOptions options)
    {
        if (!MpiEnvironment.Current.IsLaunchedByMpi)
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

    public async ValueTask DisposeAsync()
    {
        await coordinator.DisposeAsync();
        await endpoint.DisposeAsync();
        inbox.Dispose();
    }

    /// <summary>Records synchronously; <see cref="Progress{T}"/> would post to the thread pool and reorder reports.</summary>
    private sealed class Progress(Action<StepReport> record) : IProgress<StepReport>
    {
        public void Report(StepReport value) => record(value);
    }
}
