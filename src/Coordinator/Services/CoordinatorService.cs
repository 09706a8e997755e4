using Dtrain.Contracts;
using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator.Grains;
using Dtrain.Telemetry;
using Grpc.Core;

namespace Dtrain.Coordinator.Services;

/// <summary>
/// The workers' front door: checks the job token, then delegates to the job's grains. Rendezvous waits here,
/// polling the rendezvous grain, so that no grain call ever blocks on other workers.
/// </summary>
public sealed class CoordinatorService(IGrainFactory grains, CoordinatorOptions options) : Contracts.Coordinator.Coordinator.CoordinatorBase
{
    private static readonly TimeSpan RendezvousPoll = TimeSpan.FromMilliseconds(20);

    private IRendezvousGrain RendezvousGrain => grains.GetGrain<IRendezvousGrain>(options.JobId);

    private IJobGrain JobGrain => grains.GetGrain<IJobGrain>(options.JobId);

    public override async Task<JoinReply> Join(JoinRequest request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        string workerId = await Guarded(() => RendezvousGrain.JoinAsync(new WorkerRegistration
        {
            PeerAddress = request.PeerAddress,
            ProcessId = request.ProcessId,
        }));
        return new JoinReply { WorkerId = workerId, JobId = options.JobId, Settings = options.Job.ToSettings() };
    }

    public override async Task<RendezvousReply> Rendezvous(RendezvousRequest request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        while (true)
        {
            var assignment = await Guarded(() => RendezvousGrain.GetAssignmentAsync(request.WorkerId));
            if (assignment is not null)
            {
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

    public override async Task<Ack> Report(ProgressReport request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        await JobGrain.ReportProgressAsync(new RankProgress
        {
            Rank = request.Rank,
            Step = request.Step,
            Loss = request.Loss,
            Samples = request.Samples,
        });
        return new Ack();
    }

    public override async Task<Ack> Finish(FinishReport request, ServerCallContext context)
    {
        Authenticate(request.JobToken);
        await JobGrain.FinishAsync(new RankResult
        {
            Rank = request.Rank,
            FinalLoss = request.FinalLoss,
            TestAccuracy = request.TestAccuracy,
            ParameterDigest = request.ParameterDigest,
        });
        return new Ack();
    }

    private void Authenticate(string presented)
    {
        if (!JobToken.Matches(options.JobToken, presented))
        {
            DtrainMetrics.RejectedConnections.WithLabels("coordinator").Inc();
            throw new RpcException(new Status(StatusCode.Unauthenticated, "the job token is wrong"));
        }
    }

    /// <summary>A grain's refusal (a full rendezvous, an unknown worker) reaches the worker as a failed precondition.</summary>
    private static async Task<T> Guarded<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (DtrainException refused)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, refused.Message));
        }
    }
}
