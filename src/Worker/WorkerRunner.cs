using Dtrain.Collectives;
using Dtrain.Collectives.Transports.DataChannels;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Collectives.Transports.Mpi;
using Dtrain.Contracts;
using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Jobs;
using Dtrain.Graph.Service;
using Dtrain.Optimizers.Shampoo.Distributor;
using Dtrain.Telemetry;
using Dtrain.TensorParallel.Grid;
using Dtrain.Worker.Training;

namespace Dtrain.Worker;

/// <summary>
/// One rank's life: open the peer endpoint, join the job, learn rank and peers at the rendezvous, connect to
/// the peers, train, report the result, leave. When its epoch breaks (a peer is lost, or the coordinator starts
/// the next epoch), the worker aborts what it was doing, rejoins, and trains on from the newest checkpoint.
/// </summary>
public static class WorkerRunner
{
    public static async Task<TrainingResult> RunAsync(WorkerOptions options, TextWriter log, CancellationToken ct)
    {
        DtrainMetrics.PublishBuildInfo("worker");
        using var inbox = new PeerInbox(options.JobToken, System.Net.IPAddress.Parse(options.ListenAddress));
        await using var endpoint = await WorkerEndpoint.StartAsync(
            inbox, options.ListenAddress, options.AdvertiseHost, options.PeerPort, options.MetricsPort, options.Tls, ct);
        await using var coordinator = new CoordinatorLink(options);
        while (true)
        {
            var joined = await coordinator.JoinAsync(endpoint.PeerAddress, options.Rank, ct);
            var job = JobSpec.FromSettings(joined.Settings);
            if (options.WorldSize is { } launched && launched != job.Workers)
            {
                throw new DtrainException($"this worker was launched as one of {launched} workers, but the coordinator's job has {job.Workers}");
            }
            var assignment = await coordinator.RendezvousAsync(joined.WorkerId, ct);
            var epoch = new Epoch(assignment.Epoch, joined.WorkerId, assignment.Rank, assignment.WorldSize);
            try
            {
                if (await TrainAsync(new EpochContext(options, endpoint, inbox, coordinator, job, epoch, assignment.PeerAddresses, log), ct) is { } result)
                {
                    return result;
                }
            }
            finally
            {
                inbox.Retire(epoch.Number);
                endpoint.Graph.Withdraw();
            }
        }
    }

    private sealed record EpochContext(
        WorkerOptions Options, WorkerEndpoint Endpoint, PeerInbox Inbox, CoordinatorLink Coordinator, JobSpec Job, Epoch Epoch,
        IReadOnlyList<string> PeerAddresses, TextWriter Log);

    /// <summary>Trains in one epoch: the result, or null when the epoch broke and the worker must rejoin.</summary>
    private static async Task<TrainingResult?> TrainAsync(EpochContext context, CancellationToken ct)
    {
        var (options, endpoint, inbox, coordinator, job, epoch, peers, log) = context;
        var device = Devices.Resolve(job.Device);
        DtrainMetrics.WorldSize.Set(epoch.WorldSize);
        log.WriteLine($"rank {epoch.Rank}/{epoch.WorldSize} of epoch {epoch.Number} on {device.type.ToString().ToLowerInvariant()}, metrics at {endpoint.MetricsAddress}");

        var collectiveOptions = new CommunicatorOptions { Timeout = TimeSpan.FromSeconds(job.CollectiveTimeoutSeconds) };
        var transport = job.Transport == "mpi" ? null : new GrpcTransport(epoch.Rank, peers, inbox, options.JobToken, new GrpcTransportOptions { Tls = options.Tls, DataChannel = DataChannels.Parse(job.DataChannel) }, epoch.Number);
        await using var comm = transport is null ? OpenMpi(epoch.Rank, collectiveOptions) : GrpcCommunicator.CreateWorld(transport, collectiveOptions);
        using var epochEnded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        StepReport? latest = null;
        using var stopReporting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reporting = coordinator.ReportProgressAsync(epoch, () => latest, epochEnded.Cancel, stopReporting.Token);
        // Without its coordinator (gone for longer than the connect timeout) the worker stops training.
        _ = reporting.ContinueWith(_ => epochEnded.Cancel(), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        try
        {
            var throughput = new ThroughputMeter();
            var progress = new Progress(report =>
            {
                latest = report;
                throughput.Observe(report);
            });
            var checkpoint = new DataParallelCheckpoint(job, (shard, step, file, checksum, token) => coordinator.ReportCheckpointAsync(epoch, shard, step, file, checksum, token));
            BlockPlacement placeBlocks = (costs, ranks, token) =>
                coordinator.PlaceShardsAsync(epoch, new ShardedWork("shampoo-blocks", costs, ranks, "bytes"), token);
            CellPlacement placeCells = (costs, token) =>
                coordinator.PlaceShardsAsync(epoch, new ShardedWork("grid-cells", costs, epoch.WorldSize, "bytes", OnePerRank: true), token);
            var result = job.Model switch
            {
                "cannon-mlp" => await new TensorParallelTrainer(comm, job, device, new TensorParallelCheckpoint(job, checkpoint.Report), placeCells)
                    .TrainAsync(progress, epochEnded.Token),
                "graphsage" => await (await GraphTrainerAsync(context, comm, device, checkpoint, placeBlocks, collectiveOptions.Timeout, epochEnded.Token))
                    .TrainAsync(progress, epochEnded.Token),
                _ => await new DataParallelTrainer(comm, job, device, checkpoint, placeBlocks).TrainAsync(progress, epochEnded.Token),
            };
            stopReporting.Cancel();
            await reporting;
            await coordinator.FinishAsync(epoch, result, throughput.SamplesPerSecond, ct);
            return result;
        }
        catch (OperationCanceledException) when (reporting.IsFaulted)
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
        catch (DtrainException failure) when (!EndsTheEpoch(failure, epochEnded.Token, ct))
        {
            // Said before this process winds down (which may take its endpoint's shutdown timeout), so that the job
            // fails for this reason rather than for the heartbeats that stopped.
            await TellFailureAsync(coordinator, epoch, $"rank {epoch.Rank}: {failure.Message}", log);
            throw;
        }
        finally
        {
            stopReporting.Cancel();
            await reporting.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// GraphSAGE on the partition the shard map gives this rank in its epoch (one per rank), reaching the others at
    /// their owners' peer endpoints.
    /// </summary>
    private static async Task<GraphTrainer> GraphTrainerAsync(
        EpochContext context, Communicator comm, TorchSharp.torch.Device device, DataParallelCheckpoint checkpoint, BlockPlacement placeBlocks, TimeSpan timeout, CancellationToken ct)
    {
        var (options, endpoint, _, coordinator, job, epoch, peers, _) = context;
        var graph = GraphInputs.Open(job, epoch.WorldSize);
        var owners = await coordinator.PlaceShardsAsync(epoch, new ShardedWork("graph-partitions", graph.EdgeCounts, epoch.WorldSize, "edges", OnePerRank: true), ct);
        var servedAt = owners.Select(owner => peers[owner]).ToArray();
        var graphPeers = new GraphPeers(endpoint.Graph, servedAt, options.JobToken, options.Tls, timeout);
        return new GraphTrainer(comm, job, device, graph.Load(Array.IndexOf(owners, epoch.Rank)), graphPeers, checkpoint, placeBlocks);
    }

    /// <summary>Best effort: the worker's own error stays what it reports, even when the coordinator cannot be told.</summary>
    private static async Task TellFailureAsync(CoordinatorLink coordinator, Epoch epoch, string reason, TextWriter log)
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
    /// answering, or the coordinator moved on.
    /// </summary>
    private static bool EndsTheEpoch(Exception e, CancellationToken epochEnded, CancellationToken ct) => e switch
    {
        CollectiveException or PartitionUnreachableException or EpochEndedException => true,
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

    /// <summary>Records synchronously; <see cref="Progress{T}"/> would post to the thread pool and reorder reports.</summary>
    private sealed class Progress(Action<StepReport> record) : IProgress<StepReport>
    {
        public void Report(StepReport value) => record(value);
    }
}
