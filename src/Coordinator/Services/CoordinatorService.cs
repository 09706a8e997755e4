using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator.Grains;
using Dtrain.Hosting;
using Dtrain.Telemetry;
using Grpc.Core;

namespace Dtrain.Coordinator.Services;

/// <summary>
/// The workers' front door: checks the job id and token, that each call comes from the member of the epoch it
/// claims to be (its worker id, epoch and rank), and refuses malformed requests, then delegates to the job's grains. Rendezvous waits here, polling the rendezvous grain, so that no grain call ever blocks on other workers.
/// </summary>
[BindServiceMethod(typeof(CoordinatorService), nameof(BindService))]
public sealed class CoordinatorService(IGrainFactory grains, CoordinatorOptions options) : Contracts.Coordinator.Coordinator.CoordinatorBase
{
    /// <summary>
    /// The largest request taken (gRPC's usual limit): the largest a worker sends is a placement of a few bytes per
    /// unit; anything larger is refused unread.
    /// </summary>
    public const int MaxRequestBytes = 4 << 20;

    /// <summary>
    /// Binds the generated methods with request deserializers that refuse malformed bytes by name. gRPC's binder
    /// takes the second parameter's type for the base whose methods it binds.
    /// </summary>
    public static void BindService(ServiceBinderBase binder, Contracts.Coordinator.Coordinator.CoordinatorBase? service) =>
        Contracts.Coordinator.Coordinator.BindService(MalformedMessages.Refusing(binder), service);

    private static readonly TimeSpan RendezvousPoll = TimeSpan.FromMilliseconds(20);

    private IRendezvousGrain RendezvousGrain => grains.GetGrain<IRendezvousGrain>(options.JobId);

    private IJobGrain JobGrain => grains.GetGrain<IJobGrain>(options.JobId);

    private ICheckpointCatalogGrain Checkpoints => grains.GetGrain<ICheckpointCatalogGrain>(options.JobId);

    public override async Task<JoinReply> Join(JoinRequest request, ServerCallContext context)
    {
        // The job first: a worker sent to the wrong coordinator learns that, not just that its token is wrong.
        if (request.JobId != "" && request.JobId != options.JobId)
        {
            throw Refuse("job", StatusCode.NotFound, $"unknown job '{request.JobId}' (this coordinator runs job '{options.JobId}')");
        }
        Authenticate(request.JobToken);
        if (!Uri.TryCreate(request.PeerAddress, UriKind.Absolute, out var peer) || peer.Scheme is not ("http" or "https"))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"peer_address must be an http:// or https:// URL, got '{request.PeerAddress}'"));
        }
        if ((await JobGrain.GetStatusAsync()).Failure is { } failure)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"the job failed: {failure}"));
        }
        var registration = new WorkerRegistration
        {
            PeerAddress = request.PeerAddress,
            ProcessId = request.ProcessId,
            RequestedRank = request.HasRequestedRank ? request.RequestedRank : null,
        };
        var outcome = await RendezvousGrain.JoinAsync(registration);
        if (outcome.CouldGrow)
        {
            // As torchrun's elastic agent: a worker waiting to join ends an epoch that trains short-handed.
            await JobGrain.GrowAsync();
            outcome = await RendezvousGrain.JoinAsync(registration);
        }
        if (outcome.WorkerId is null)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, outcome.Refusal ?? "refused"));
        }
        // A worker of a later epoch (after a failure) resumes from the newest checkpoint this run committed.
        var job = options.Job with { Checkpoints = options.Job.Checkpoints with { ResumeStep = await Checkpoints.GetResumeStepAsync() } };
        return new JoinReply { WorkerId = outcome.WorkerId, JobId = options.JobId, Job = JobJson.Serialize(job) };
    }

    public override async Task<RendezvousReply> Rendezvous(RendezvousRequest request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        if (!await AdmitMemberAsync(new MemberClaim { WorkerId = request.WorkerId }))
        {
            throw Refuse("member", StatusCode.PermissionDenied, $"worker '{request.WorkerId}' is not a member of the current epoch");
        }
        while (true)
        {
            RankAssignment? assignment;
            try
            {
                assignment = await RefusingInvalidAsync(() => RendezvousGrain.GetAssignmentAsync(request.WorkerId));
            }
            catch (TimeoutException tooFew)
            {
                await JobGrain.FailAsync(tooFew.Message);
                throw new RpcException(new Status(StatusCode.FailedPrecondition, tooFew.Message));
            }
            if (assignment is not null)
            {
                await grains.GetGrain<IWorkerGrain>(request.WorkerId).WatchAsync(new WatchedWorker
                {
                    JobId = options.JobId,
                    Epoch = assignment.Epoch,
                    Rank = assignment.Rank,
                    ProcessId = assignment.ProcessId,
                    HeartbeatTimeout = TimeSpan.FromSeconds(options.Job.Elastic.HeartbeatTimeoutSeconds),
                });
                var reply = new RendezvousReply
                {
                    Rank = assignment.Rank,
                    WorldSize = assignment.PeerAddresses.Count,
                    Epoch = assignment.Epoch,
                };
                reply.PeerAddresses.AddRange(assignment.PeerAddresses);
                return reply;
            }
            await Task.Delay(RendezvousPoll, context.CancellationToken);
        }
    }

    public override async Task<ReportReply> Report(ProgressReport request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        await AdmitMemberAsync(new MemberClaim { WorkerId = request.WorkerId, Epoch = request.Epoch, Rank = request.Rank });
        await grains.GetGrain<IWorkerGrain>(request.WorkerId).HeartbeatAsync();
        long epoch = await JobGrain.ReportProgressAsync(new RankProgress
        {
            Rank = request.Rank,
            Step = request.Step,
            Loss = request.Loss,
            Samples = request.Samples,
            Epoch = request.Epoch,
        });
        return new ReportReply { Epoch = epoch };
    }

    public override async Task<Ack> Finish(FinishReport request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        var claim = new MemberClaim { WorkerId = request.WorkerId, Epoch = request.Epoch, Rank = request.Rank, WorldSize = request.WorldSize };
        if (!await AdmitMemberAsync(claim)) throw EpochOver(request.Epoch);
        bool accepted = await JobGrain.FinishAsync(new RankResult
        {
            Rank = request.Rank,
            FinalLoss = request.FinalLoss,
            TestAccuracy = request.TestAccuracy,
            ParameterDigest = request.ParameterDigest,
            Epoch = request.Epoch,
            WorldSize = request.WorldSize,
            SamplesPerSecond = request.SamplesPerSecond,
        });
        if (!accepted) throw EpochOver(request.Epoch);
        await grains.GetGrain<IWorkerGrain>(request.WorkerId).RetireAsync();
        return new Ack();
    }

    public override async Task<Ack> EndEpoch(EndEpochRequest request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        await AdmitMemberAsync(new MemberClaim { WorkerId = request.WorkerId, Epoch = request.Epoch });
        await grains.GetGrain<IWorkerGrain>(request.WorkerId).RetireAsync();
        await JobGrain.EndEpochAsync(request.Epoch, request.Reason);
        return new Ack();
    }

    public override async Task<Ack> Fail(FailReport request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        await AdmitMemberAsync(new MemberClaim { WorkerId = request.WorkerId });
        // Silent from now on, and not lost: the job fails with the worker's reason, not for a missing heartbeat.
        await grains.GetGrain<IWorkerGrain>(request.WorkerId).RetireAsync();
        await JobGrain.FailAsync(request.Reason);
        return new Ack();
    }

    public override async Task<Ack> ReportCheckpoint(CheckpointReport request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        if (options.Job.Checkpoints.Dir == "") throw new RpcException(new Status(StatusCode.FailedPrecondition, "this job takes no checkpoints"));
        // The shard's number is not always the writer's rank (a grid cell): the worker's epoch is what is checked.
        if (!await AdmitMemberAsync(new MemberClaim { WorkerId = request.WorkerId, Epoch = request.Epoch })) throw EpochOver(request.Epoch);
        bool accepted = await RefusingInvalidAsync(() => Checkpoints.ReportShardAsync(new ShardReport
        {
            Rank = request.Rank, Step = request.Step, File = request.File, Checksum = request.Checksum,
            Epoch = request.Epoch, WorldSize = request.WorldSize,
        }));
        if (!accepted) throw EpochOver(request.Epoch);
        return new Ack();
    }

    public override async Task<PlacementReply> PlaceShards(PlacementRequest request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        if (!await AdmitMemberAsync(new MemberClaim { WorkerId = request.WorkerId, Epoch = request.Epoch, Rank = request.Rank })) throw EpochOver(request.Epoch);
        var owners = await RefusingInvalidAsync(() => grains.GetGrain<IShardMapGrain>(options.JobId).PlaceAsync(new WorkToPlace
        {
            Epoch = request.Epoch, Rank = request.Rank, Kind = request.Kind, Costs = request.Costs.ToArray(), Ranks = request.Ranks,
            CostUnit = request.CostUnit, OnePerRank = request.OnePerRank,
        }));
        if (owners is null) throw EpochOver(request.Epoch);
        var reply = new PlacementReply();
        reply.Owners.AddRange(owners);
        return reply;
    }

    /// <summary>
    /// Refuses a call that does not come from the member it claims to be: PERMISSION_DENIED for a stranger or an
    /// impostor, INVALID_ARGUMENT for a rank or epoch that cannot be; both counted.
    /// </summary>
    /// <returns>True for a member of the current epoch, false for one of an epoch that has ended.</returns>
    private async Task<bool> AdmitMemberAsync(MemberClaim claim)
    {
        var membership = await RendezvousGrain.CheckMemberAsync(claim);
        return membership.Kind switch
        {
            MembershipKind.Current => true,
            MembershipKind.Ended => false,
            MembershipKind.NotMember => throw Refuse("member", StatusCode.PermissionDenied, membership.Refusal!),
            _ => throw Refuse("claim", StatusCode.InvalidArgument, membership.Refusal!),
        };
    }

    /// <summary>A refusal counted in dtrain_rejected_connections_total under <paramref name="reason"/>.</summary>
    private static RpcException Refuse(string reason, StatusCode code, string detail)
    {
        DtrainMetrics.RejectedConnections.WithLabels("coordinator", reason).Inc();
        return new RpcException(new Status(code, detail));
    }

    /// <summary>A grain call whose <see cref="ArgumentException"/> means the request cannot be right: INVALID_ARGUMENT, in its words.</summary>
    private static async Task<T> RefusingInvalidAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (ArgumentException refused)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, refused.Message));
        }
    }

    /// <summary>The answer to a worker still in an ended epoch: it leaves that epoch and rejoins.</summary>
    private static RpcException EpochOver(long epoch) => new(new Status(StatusCode.Aborted, $"epoch {epoch} is over"));

    public override async Task<StatusReply> Status(StatusRequest request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        var status = await JobGrain.GetStatusAsync();
        var members = await RendezvousGrain.GetMemberProcessIdsAsync();
        long checkpoint = await Checkpoints.GetLastCommittedAsync();
        var reply = new StatusReply
        {
            JobId = options.JobId,
            // Before any worker joined, a forming job is still pending.
            State = status.State == JobState.Forming && members.Count == 0 ? "pending" : status.State.ToString().ToLowerInvariant(),
            Epoch = status.Epoch,
            WorldSize = options.Job.Workers,
            MinWorkers = options.Job.MinimumWorkers,
            Joined = members.Count,
            Restarts = status.Restarts,
            Steps = options.Job.Steps,
            LastCheckpointStep = checkpoint,
            LastCheckpoint = checkpoint > 0 ? CheckpointStore.DirectoryOf(options.Job.Checkpoints.Dir, checkpoint) : "",
            Failure = status.Failure ?? "",
        };
        foreach (var placement in await grains.GetGrain<IShardMapGrain>(options.JobId).GetAsync())
        {
            var shown = new ShardPlacement { Kind = placement.Kind, Units = placement.Owners.Length, Ranks = placement.Ranks, CostUnit = placement.CostUnit };
            shown.CostPerRank.AddRange(placement.CostPerRank());
            reply.ShardMap.Add(shown);
        }
        reply.Workers.AddRange(status.Progress.Select(p => new WorkerStatus
        {
            Rank = p.Rank, Step = p.Step, Loss = p.Loss, Samples = p.Samples, SecondsSinceHeard = (DateTime.UtcNow - p.HeardAt).TotalSeconds,
        }));
        reply.Results.AddRange(status.Results.Select(r => new FinishedRank
        {
            Rank = r.Rank, FinalLoss = r.FinalLoss, TestAccuracy = r.TestAccuracy, ParameterDigest = r.ParameterDigest, SamplesPerSecond = r.SamplesPerSecond,
        }));
        reply.MemberProcessIds.AddRange(members);
        reply.MemberRanks.AddRange(await RendezvousGrain.GetMemberRanksAsync());
        if (status.LastRestart is { } restart) reply.LastRestart = Shown(restart);
        return reply;
    }

    private static RestartStatus Shown(EpochRestart restart)
    {
        var shown = new RestartStatus
        {
            Epoch = restart.Epoch, Reason = restart.Reason, ReachedStep = restart.ReachedStep, ResumeStep = restart.ResumeStep,
            // UTC by construction, whatever kind the state's storage gave it back as.
            At = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(restart.At, DateTimeKind.Utc)),
        };
        if (restart.LostProcessId is { } lost) shown.LostProcessId = lost;
        return shown;
    }

    private void Authenticate(string presented)
    {
        if (!JobToken.Matches(options.JobToken, presented))
        {
            throw Refuse("token", StatusCode.Unauthenticated, "the job token is wrong");
        }
    }
}
