using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Tests.Graph;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Tests.Coordinator;

/// <summary>
/// Calls that hold the job's token but do not come from the member of the epoch they claim to be, over a real gRPC
/// socket to a real silo: a made-up worker id, another worker's rank, a rank outside the world, an epoch the job never
/// reached, a member of an ended epoch. They are refused and counted, and change neither the job nor its status.
/// </summary>
public class MembershipTests : IAsyncLifetime
{
    private readonly TempDirectory checkpoints = new();
    private CoordinatorHost host = null!;
    private GrpcChannel channel = null!;
    private string[] workers = null!;   // by rank

    private Contracts.Coordinator.Coordinator.CoordinatorClient Client => new(channel);

    private string Token => host.Options.JobToken;

    public async Task InitializeAsync()
    {
        string jobId = $"job-{Guid.NewGuid():N}";
        host = await CoordinatorHost.StartAsync(new CoordinatorOptions
        {
            JobId = jobId,
            JobToken = JobToken.Generate(),
            Job = new JobSpec
            {
                Workers = 2, Port = TestPorts.FreePair(), Checkpoints = new() { Dir = checkpoints.Path, Every = 10 }, Elastic = new() { MaxRestarts = 1 },
            },
        });
        channel = GrpcChannel.ForAddress(host.Address);
        var joined = new List<string>();
        foreach (int port in new[] { 1001, 1002 })
        {
            joined.Add((await Client.JoinAsync(new JoinRequest { JobToken = Token, PeerAddress = $"http://127.0.0.1:{port}", ProcessId = port })).WorkerId);
        }
        workers = new string[2];
        foreach (string worker in joined)
        {
            workers[(await Client.RendezvousAsync(new RendezvousRequest { JobToken = Token, WorkerId = worker })).Rank] = worker;
        }
    }

    public async Task DisposeAsync()
    {
        channel.Dispose();
        await host.DisposeAsync();
        checkpoints.Dispose();
    }

    private async Task<StatusReply> StatusAsync() => await Client.StatusAsync(new StatusRequest { JobToken = Token });

    private ProgressReport Progress(string worker, int rank, long epoch = 1) =>
        new() { JobToken = Token, WorkerId = worker, Rank = rank, Epoch = epoch, Step = 999999, Loss = 0.5, Samples = 64 };

    private FinishReport Result(string worker, int rank, long epoch = 1, int worldSize = 2) => new()
    {
        JobToken = Token, WorkerId = worker, Rank = rank, Epoch = epoch, WorldSize = worldSize, FinalLoss = 0.1, TestAccuracy = 1, ParameterDigest = "forged",
    };

    private static async Task<(StatusCode, string)> RefusedAsync<T>(AsyncUnaryCall<T> call)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        return (refused.StatusCode, refused.Status.Detail);
    }

    private async Task<(double Member, double Claim)> RefusalsAsync() => (
        await Scrape.ValueAsync(host.MetricsAddress, Scrape.Rejected("coordinator", "member")),
        await Scrape.ValueAsync(host.MetricsAddress, Scrape.Rejected("coordinator", "claim")));

    [Fact]
    public async Task A_made_up_worker_id_can_neither_end_nor_fail_nor_report_nor_finish()
    {
        var before = await RefusalsAsync();
        var denied = (StatusCode.PermissionDenied, "unknown worker 'nobody'");

        Assert.Equal(denied, await RefusedAsync(Client.FailAsync(new FailReport { JobToken = Token, WorkerId = "nobody", Reason = "forged" })));
        Assert.Equal(denied, await RefusedAsync(Client.EndEpochAsync(new EndEpochRequest { JobToken = Token, WorkerId = "nobody", Epoch = 1, Reason = "forged" })));
        Assert.Equal(denied, await RefusedAsync(Client.ReportAsync(Progress("nobody", 0))));
        Assert.Equal(denied, await RefusedAsync(Client.FinishAsync(Result("nobody", 0))));
        Assert.Equal(denied, await RefusedAsync(Client.RendezvousAsync(new RendezvousRequest { JobToken = Token, WorkerId = "nobody" })));
        Assert.Equal(denied, await RefusedAsync(Client.ReportCheckpointAsync(new CheckpointReport
        {
            JobToken = Token, WorkerId = "nobody", Rank = 0, Epoch = 1, WorldSize = 2, Step = 10, File = "rank-0.shard", Checksum = "00",
        })));
        Assert.Equal(denied, await RefusedAsync(Client.PlaceShardsAsync(new PlacementRequest
        {
            JobToken = Token, WorkerId = "nobody", Rank = 0, Epoch = 1, Ranks = 2, Kind = "shampoo-blocks", Costs = { 1, 2 },
        })));

        var status = await StatusAsync();
        Assert.Equal(("forming", 1L, 0, "", 0), (status.State, status.Epoch, status.Restarts, status.Failure, status.Workers.Count));
        Assert.Equal((before.Member + 7, before.Claim), await RefusalsAsync());
    }

    [Fact]
    public async Task A_member_claiming_another_rank_a_rank_outside_the_world_or_another_epoch_is_refused()
    {
        var before = await RefusalsAsync();

        Assert.Equal((StatusCode.PermissionDenied, $"worker '{workers[0]}' is rank 0 of epoch 1, not rank 1"),
            await RefusedAsync(Client.ReportAsync(Progress(workers[0], 1))));
        Assert.Equal((StatusCode.InvalidArgument, "rank 99 is not a rank of epoch 1 (2 workers)"),
            await RefusedAsync(Client.FinishAsync(Result(workers[1], 99))));
        Assert.Equal((StatusCode.InvalidArgument, "epoch 999 is not an epoch of this job (the current one is 1)"),
            await RefusedAsync(Client.EndEpochAsync(new EndEpochRequest { JobToken = Token, WorkerId = workers[1], Epoch = 999, Reason = "forged" })));
        Assert.Equal((StatusCode.InvalidArgument, "epoch 1 has 2 workers, not 1"),
            await RefusedAsync(Client.FinishAsync(Result(workers[0], 0, worldSize: 1))));

        var status = await StatusAsync();
        Assert.Equal(("forming", 1L, 0, 0), (status.State, status.Epoch, status.Restarts, status.Results.Count));
        Assert.Empty(status.Workers);
        Assert.Equal((before.Member + 1, before.Claim + 3), await RefusalsAsync());
        // The members themselves are heard.
        await Client.ReportAsync(Progress(workers[1], 1));
        Assert.Equal(999999, Assert.Single((await StatusAsync()).Workers).Step);
    }

    [Fact]
    public async Task A_member_of_an_ended_epoch_is_told_it_ended_but_cannot_pass_for_a_member_of_the_next()
    {
        await Client.EndEpochAsync(new EndEpochRequest { JobToken = Token, WorkerId = workers[0], Epoch = 1, Reason = "rank 1 was lost" });
        var before = await RefusalsAsync();

        // Late calls of the ended epoch: the epoch is over (ABORTED, or the current epoch in the reply), nothing else.
        Assert.Equal((StatusCode.Aborted, "epoch 1 is over"), await RefusedAsync(Client.FinishAsync(Result(workers[1], 1))));
        Assert.Equal(2, (await Client.ReportAsync(Progress(workers[1], 1))).Epoch);
        await Client.EndEpochAsync(new EndEpochRequest { JobToken = Token, WorkerId = workers[1], Epoch = 1, Reason = "rank 0 was lost" });
        // Claiming the new epoch with the old id is not.
        Assert.Equal((StatusCode.PermissionDenied, $"worker '{workers[1]}' is not a member of epoch 2"),
            await RefusedAsync(Client.EndEpochAsync(new EndEpochRequest { JobToken = Token, WorkerId = workers[1], Epoch = 2, Reason = "forged" })));
        Assert.Equal((StatusCode.PermissionDenied, $"worker '{workers[1]}' is not a member of the current epoch"),
            await RefusedAsync(Client.RendezvousAsync(new RendezvousRequest { JobToken = Token, WorkerId = workers[1] })));

        var status = await StatusAsync();
        Assert.Equal((2L, 1, ""), (status.Epoch, status.Restarts, status.Failure));
        Assert.Equal((before.Member + 2, before.Claim), await RefusalsAsync());
    }
}
