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
            Job = new JobSpec { Workers = 2, Port = TestPorts.FreePair(), CheckpointDir = directory.Path, CheckpointEvery = 10 },
        };
        await using var host = await CoordinatorHost.StartAsync(options);
        using var channel = GrpcChannel.ForAddress(host.Address);
        var client = new Contracts.Coordinator.Coordinator.CoordinatorClient(channel);
        CheckpointReport Report(int rank, long step, string? token = null) => new()
        {
            JobToken = token ?? options.JobToken, Rank = rank, Step = step, File = CheckpointStore.ShardName(rank),
            Checksum = CheckpointStore.WriteShard(directory.Path, step, rank, writer => writer.Write(rank * 31 + step)),
        };
        async Task<RpcException> RefusedAsync(CheckpointReport report) =>
            await Assert.ThrowsAsync<RpcException>(() => client.ReportCheckpointAsync(report).ResponseAsync);

        await client.ReportCheckpointAsync(Report(1, 10));
        Assert.Null(CheckpointStore.LatestValid(directory.Path, out _));
        Assert.Equal("rank 1 already reported its shard of step 10", (await RefusedAsync(Report(1, 10))).Status.Detail);
        await client.ReportCheckpointAsync(Report(0, 10));

        Assert.Equal(10, CheckpointStore.LatestValid(directory.Path, out _)!.Step);
        Assert.Equal(10, await host.LastCheckpointAsync());
        Assert.Equal("step 10 is not after the last committed checkpoint (step 10)", (await RefusedAsync(Report(0, 10))).Status.Detail);
        Assert.Equal("rank 2 is outside the world of 2", (await RefusedAsync(Report(2, 20))).Status.Detail);
        Assert.Equal(StatusCode.Unauthenticated, (await RefusedAsync(Report(0, 20, token: "guess"))).StatusCode);
    }
}
