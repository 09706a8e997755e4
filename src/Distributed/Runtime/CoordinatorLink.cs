using Dtrain.Contracts.Placement;
using System.Diagnostics;
using Dtrain.Contracts;
using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Network;
using Dtrain.Distributed;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Distributed.Runtime;

/// <summary>The worker's side of protos/coordinator.proto: join, rendezvous, progress and heartbeats, checkpoints, finish.</summary>
public sealed class CoordinatorLink : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);
    private readonly GrpcChannel channel;
    private readonly Contracts.Coordinator.Coordinator.CoordinatorClient client;
    private readonly WorkerOptions options;

    /// <summary>Whether the coordinator ever answered: from then on, <see cref="WorkerOptions.CoordinatorLossTimeout"/> bounds its silence.</summary>
    private volatile bool answered;

    /// <summary>The <see cref="Stopwatch"/> timestamp of the first call that found the coordinator unreachable since its last answer; 0 while it answers.</summary>
    private long unreachableSince;

    public CoordinatorLink(WorkerOptions options)
    {
        this.options = options;
        channel = options.Tls.CreateChannel(options.Coordinator);
        client = new Contracts.Coordinator.Coordinator.CoordinatorClient(channel);
    }

    /// <summary>Joins the job, retrying while the coordinator is not reachable yet (it may still be starting).</summary>
    /// <param name="peerAddress">Where peers reach this worker.</param>
    /// <param name="requestedRank">The rank a launcher (mpiexec) gave this worker, if any.</param>
    /// <param name="ct">Cancels the join.</param>
    public async Task<JoinReply> JoinAsync(string peerAddress, int? requestedRank, CancellationToken ct)
    {
        var request = new JoinRequest
        {
            JobToken = options.JobToken,
            JobId = options.JobId,
            PeerAddress = peerAddress,
            ProcessId = Environment.ProcessId,
        };
        if (requestedRank is { } rank) request.RequestedRank = rank;
        try
        {
            return await CallAsync(answerBy => client.JoinAsync(request, deadline: answerBy, cancellationToken: ct).ResponseAsync, ct);
        }
        catch (RpcException e)
        {
            throw new DtrainException($"the coordinator at {options.Coordinator} refused to join: {e.Status.Detail}");
        }
    }

    public async Task<RendezvousReply> RendezvousAsync(string workerId, CancellationToken ct)
    {
        var giveUp = DateTime.UtcNow + options.RendezvousTimeout;
        try
        {
            // It waits for the other workers, not for an answer at once: its own deadline, not the link's.
            return await CallAsync(_ => client.RendezvousAsync(
                new RendezvousRequest { JobToken = options.JobToken, WorkerId = workerId }, deadline: giveUp, cancellationToken: ct).ResponseAsync, ct, answersAtOnce: false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            throw new DtrainException(
                $"the other workers did not join within {options.RendezvousTimeout.TotalSeconds:0.#} s");
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.InvalidArgument or StatusCode.PermissionDenied)
        {
            throw new DtrainException($"the rendezvous failed: {e.Status.Detail}");
        }
    }

    /// <summary>
    /// Makes a call, and makes it again while the coordinator cannot be reached: it may still be starting, or
    /// restarting (with its state in Redis, a new coordinator process takes over the job). Gives up once
    /// <see cref="GiveUpIfSilentTooLong"/> says so.
    /// </summary>
    /// <param name="call">Makes the call with the deadline it is given: by then the coordinator must have answered, or it
    /// counts as silent (a coordinator whose host vanished, or a stopped process, refuses nothing: its calls just wait).</param>
    /// <param name="answersAtOnce">False for a call that waits for other workers under a deadline of its own.</param>
    private async Task<T> CallAsync<T>(Func<DateTime, Task<T>> call, CancellationToken ct, bool answersAtOnce = true)
    {
        while (true)
        {
            long started = Stopwatch.GetTimestamp();
            try
            {
                var answer = await call(DateTime.UtcNow + Patience());
                answered = true;
                Volatile.Write(ref unreachableSince, 0);
                return answer;
            }
            catch (RpcException e) when (GrpcTls.HandshakeFailure(e) is { } failure)
            {
                throw new DtrainException($"cannot reach the coordinator at {options.Coordinator}: {failure}");
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable)
            {
                GiveUpIfSilentTooLong(Stopwatch.GetTimestamp());
                await Task.Delay(RetryDelay, ct);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.DeadlineExceeded && answersAtOnce)
            {
                // Silent since the call began.
                GiveUpIfSilentTooLong(started);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
            {
                // Cancelled by this worker (its epoch ended mid-call): a cancellation, as everywhere else.
                throw new OperationCanceledException(e.Status.Detail, e, ct);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.PermissionDenied)
            {
                // The coordinator does not count this worker as the member it believes it is (another coordinator's worker id).
                throw new DtrainException($"the coordinator at {options.Coordinator} refused this worker: {e.Status.Detail}");
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unknown or StatusCode.Internal or StatusCode.DataLoss or StatusCode.Unimplemented)
            {
                // A fault of the coordinator, not an answer: the worker cannot go on, but says what it got.
                throw new DtrainException($"the coordinator at {options.Coordinator} failed: {e.StatusCode}, {e.Status.Detail}");
            }
        }
    }

    /// <summary>
    /// How long the coordinator may be silent: <see cref="WorkerOptions.ConnectTimeout"/> before its first answer,
    /// <see cref="WorkerOptions.CoordinatorLossTimeout"/> after it.
    /// </summary>
    private TimeSpan Bound => answered ? options.CoordinatorLossTimeout : options.ConnectTimeout;

    /// <summary>What is left of <see cref="Bound"/> after the silence so far (at least one retry's worth).</summary>
    private TimeSpan Patience()
    {
        long since = Volatile.Read(ref unreachableSince);
        var left = since == 0 ? Bound : Bound - Stopwatch.GetElapsedTime(since);
        return left > RetryDelay ? left : RetryDelay;
    }

    /// <summary>
    /// Throws once the coordinator has been silent for longer than <see cref="Bound"/>. The silence is counted from
    /// the first call that failed (<paramref name="silentSince"/>, a <see cref="Stopwatch"/> timestamp), by every
    /// call alike: a worker whose heartbeats, epoch change and rejoin each retry in turn still gives up within the one bound.
    /// </summary>
    private void GiveUpIfSilentTooLong(long silentSince)
    {
        long since = Interlocked.CompareExchange(ref unreachableSince, silentSince, 0) is var first and not 0 ? first : silentSince;
        if (Stopwatch.GetElapsedTime(since) < Bound) return;
        if (answered) throw new CoordinatorLostException(options.Coordinator, Bound);
        throw new DtrainException($"cannot reach the coordinator at {options.Coordinator} (no answer for {Bound.TotalSeconds:0.#} s)");
    }

    /// <summary>
    /// Sends the newest progress every <see cref="ReportInterval"/> until cancelled, then the last one, off the
    /// training path: a slow coordinator never slows a step down, and a report it misses is superseded by the next.
    /// Unchanged progress is sent again every <see cref="HeartbeatInterval"/>: every report is also the heartbeat
    /// by which the coordinator knows this worker is alive (a step can take longer than that). Each reply names
    /// the job's current epoch; <paramref name="epochEnded"/> is called once it is a later one than this worker's.
    /// </summary>
    public async Task ReportProgressAsync(Epoch epoch, Func<StepReport?> latest, Action epochEnded, CancellationToken stop)
    {
        StepReport? sent = null;
        var sentAt = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(ReportInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var now = latest() ?? new StepReport(0, double.NaN, 0);
                if (now == sent && sentAt.Elapsed < HeartbeatInterval) continue;
                if (await SendAsync(epoch, now, stop) > epoch.Number) epochEnded();
                sent = now;
                sentAt.Restart();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        if (latest() is { } last && last != sent) await SendAsync(epoch, last, CancellationToken.None);
    }

    /// <returns>The job's current epoch.</returns>
    private async Task<long> SendAsync(Epoch epoch, StepReport report, CancellationToken ct) =>
        (await CallAsync(answerBy => client.ReportAsync(new ProgressReport
        {
            JobToken = options.JobToken,
            WorkerId = epoch.WorkerId,
            Epoch = epoch.Number,
            Rank = epoch.Rank,
            Step = report.Step,
            Loss = report.Loss,
            Samples = report.Samples,
        }, deadline: answerBy, cancellationToken: ct).ResponseAsync, ct)).Epoch;

    /// <exception cref="EpochEndedException">The epoch ended before the result arrived: the rank trains on in the next.</exception>
    /// <param name="samplesPerSecond">The rank's own rate (<see cref="ThroughputMeter"/>).</param>
    public async Task FinishAsync(Epoch epoch, TrainingResult result, double samplesPerSecond, CancellationToken ct) =>
        await CallInEpochAsync(epoch, answerBy => client.FinishAsync(new FinishReport
        {
            JobToken = options.JobToken,
            WorkerId = epoch.WorkerId,
            Epoch = epoch.Number,
            WorldSize = epoch.WorldSize,
            Rank = epoch.Rank,
            FinalLoss = result.FinalLoss,
            TestAccuracy = result.TestAccuracy,
            ParameterDigest = result.ParameterDigest,
            SamplesPerSecond = samplesPerSecond,
        }, deadline: answerBy, cancellationToken: ct).ResponseAsync, ct);

    /// <summary>Tells the coordinator this rank's shard of the checkpoint after <paramref name="step"/> steps is written.</summary>
    /// <exception cref="EpochEndedException">The epoch ended: its shards can no longer make a checkpoint.</exception>
    public async Task ReportCheckpointAsync(Epoch epoch, int shard, long step, string file, string checksum, CancellationToken ct)
    {
        try
        {
            await CallInEpochAsync(epoch, answerBy => client.ReportCheckpointAsync(new CheckpointReport
            {
                JobToken = options.JobToken, WorkerId = epoch.WorkerId, Epoch = epoch.Number, WorldSize = epoch.WorldSize, Rank = shard,
                Step = step, File = file, Checksum = checksum,
            }, deadline: answerBy, cancellationToken: ct).ResponseAsync, ct);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition)
        {
            throw new DtrainException($"the coordinator refused the checkpoint shard of step {step}: {e.Status.Detail}");
        }
    }

    private async Task<T> CallInEpochAsync<T>(Epoch epoch, Func<DateTime, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await CallAsync(call, ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Aborted)
        {
            throw new EpochEndedException(epoch.Number, e.Status.Detail);
        }
    }

    /// <summary>Asks the coordinator's shard map who owns each unit of <paramref name="work"/> (the same answer for every rank).</summary>
    /// <exception cref="EpochEndedException">The epoch ended.</exception>
    public async Task<int[]> PlaceShardsAsync(Epoch epoch, ShardedWork work, CancellationToken ct)
    {
        var request = new PlacementRequest
        {
            JobToken = options.JobToken, WorkerId = epoch.WorkerId, Epoch = epoch.Number, Rank = epoch.Rank, Kind = work.KindName, Ranks = work.Ranks,
            CostUnit = work.CostUnit, OnePerRank = work.OnePerRank,
        };
        request.Costs.AddRange(work.Costs);
        try
        {
            return (await CallInEpochAsync(epoch, answerBy => client.PlaceShardsAsync(request, deadline: answerBy, cancellationToken: ct).ResponseAsync, ct)).Owners.ToArray();
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
        {
            throw new DtrainException($"the coordinator refused to place {work.KindName}: {e.Status.Detail}");
        }
    }

    /// <summary>Tells the coordinator this worker's epoch broke, so that the next one starts (once, whoever tells first).</summary>
    public async Task EndEpochAsync(Epoch epoch, string reason, CancellationToken ct) =>
        await CallAsync(answerBy => client.EndEpochAsync(new EndEpochRequest
        {
            JobToken = options.JobToken, WorkerId = epoch.WorkerId, Epoch = epoch.Number, Reason = reason,
        }, deadline: answerBy, cancellationToken: ct).ResponseAsync, ct);

    /// <summary>Tells the coordinator the job cannot go on, in this worker's words (it fails the job).</summary>
    public async Task FailAsync(Epoch epoch, string reason, CancellationToken ct) =>
        await CallAsync(answerBy => client.FailAsync(new FailReport
        {
            JobToken = options.JobToken, WorkerId = epoch.WorkerId, Reason = reason,
        }, deadline: answerBy, cancellationToken: ct).ResponseAsync, ct);

    public ValueTask DisposeAsync()
    {
        channel.Dispose();
        return ValueTask.CompletedTask;
    }
}
