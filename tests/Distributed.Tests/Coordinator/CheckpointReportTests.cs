using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Tests.Graph;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Tests.Coordinator;

/// <summary>The coordinator commits a checkpoint when every rank's shard is in, and refuses reports that cannot be right.</summary>
public class CheckpointReportTests
{
    [Fact]
    public async Task The_manifest_appears_only_when_every_rank_reported_and_bad_reports_are_refused_by_name()
    {
        using var directory = new TempDirectory();
        var options = new CoordinatorOptions
        {
            JobId = Guid.NewGuid().ToString("N"),
            JobToken = JobToken.Generate(),
            Job = new JobSpec { Workers = 2, Port = TestPorts.FreePair(), Checkpoints = new() { Dir = directory.Path, Every = 10 }, Elastic = new() { MaxRestarts = 1 } },
        };
        await using var host = await CoordinatorHost.StartAsync(options);
        using var channel = GrpcChannel.ForAddress(host.Address);
        var client = new Contracts.Coordinator.Coordinator.CoordinatorClient(channel);
        var workers = new string[2];   // the members of epoch 1, by rank
        foreach (int port in new[] { 1001, 1002 })
        {
            string id = (await client.JoinAsync(new JoinRequest { JobToken = options.JobToken, PeerAddress = $"http://127.0.0.1:{port}" })).WorkerId;
            workers[port - 1001] = id;
        }
        foreach (string id in workers.ToArray())
        {
            workers[(await client.RendezvousAsync(new RendezvousRequest { JobToken = options.JobToken, WorkerId = id })).Rank] = id;
        }
        CheckpointReport Report(int rank, long step, string? token = null, int worldSize = 2, long epoch = 1) => new()
        {
            JobToken = token ?? options.JobToken, WorkerId = workers[Math.Min(rank, 1)], Rank = rank, Step = step, File = CheckpointStore.ShardName(rank), WorldSize = worldSize, Epoch = epoch,
            Checksum = CheckpointStore.WriteShard(directory.Path, step, rank, writer => writer.Write(rank * 31 + step)),
        };
        async Task<RpcException> RefusedAsync(CheckpointReport report) =>
            await Assert.ThrowsAsync<RpcException>(() => client.ReportCheckpointAsync(report).ResponseAsync);

        async Task<long> LastCheckpointAsync() => (await client.StatusAsync(new StatusRequest { JobToken = options.JobToken })).LastCheckpointStep;

        CheckpointReport Other(CheckpointReport report) => new(report) { Checksum = new string('0', report.Checksum.Length) };

        var first = Report(1, 10);
        await client.ReportCheckpointAsync(first);
        Assert.Null(CheckpointStore.LatestValid(directory.Path, out _));
        // The same report again (a worker retrying a call whose reply was lost) changes nothing; another shard is refused.
        await client.ReportCheckpointAsync(first);
        Assert.Equal("rank 1 already reported its shard of step 10", (await RefusedAsync(Other(first))).Status.Detail);
        var last = Report(0, 10);
        await client.ReportCheckpointAsync(last);

        Assert.Equal(10, CheckpointStore.LatestValid(directory.Path, out _)!.Step);
        Assert.Equal(10, await LastCheckpointAsync());
        await client.ReportCheckpointAsync(last);   // delivered again after the commit, e.g. to a coordinator that took over
        Assert.Equal(10, CheckpointStore.LatestValid(directory.Path, out _)!.Step);
        Assert.Equal("step 10 is not after the last committed checkpoint (step 10)", (await RefusedAsync(Other(last))).Status.Detail);
        Assert.Equal("rank 2 is outside the world of 2", (await RefusedAsync(Report(2, 20))).Status.Detail);
        Assert.Equal(StatusCode.Unauthenticated, (await RefusedAsync(Report(0, 20, token: "guess"))).StatusCode);
        Assert.Equal("a world of 3 is not a world of this job (1 to 2 workers)", (await RefusedAsync(Report(0, 20, worldSize: 3))).Status.Detail);
        // A world that shrank to one rank commits its checkpoints alone; ranks of one step must agree on the world.
        await client.ReportCheckpointAsync(Report(0, 20, worldSize: 1));
        Assert.Equal(20, await LastCheckpointAsync());
        await client.ReportCheckpointAsync(Report(1, 40));
        Assert.Equal("rank 0 wrote step 40 in a world of 1, rank 1 in one of 2", (await RefusedAsync(Report(0, 40, worldSize: 1))).Status.Detail);
        // A shard of an epoch that is over is refused with ABORTED: its worker leaves that epoch.
        await host.EndEpochAsync(1, "rank 1 was lost");
        var stale = await RefusedAsync(Report(1, 50));
        Assert.Equal((StatusCode.Aborted, "epoch 1 is over"), (stale.StatusCode, stale.Status.Detail));
        Assert.Equal("epoch 7 is not an epoch of this job (the current one is 2)", (await RefusedAsync(Report(1, 50, epoch: 7))).Status.Detail);
    }
}
