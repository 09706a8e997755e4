using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Coordinator.Grains;
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

    /// <summary>
    /// A restart resumes from the newest whole checkpoint, as --resume does: one whose shard was damaged, or whose
    /// manifest was deleted, after it was committed is passed over, by name. The step reached is never before the
    /// resume step, though progress reports lag behind the checkpoints.
    /// </summary>
    [Fact]
    public async Task A_restart_passes_over_a_damaged_checkpoint_and_never_reaches_less_than_it_resumes_from()
    {
        using var directory = new TempDirectory();
        var options = new CoordinatorOptions
        {
            JobId = Guid.NewGuid().ToString("N"),
            JobToken = JobToken.Generate(),
            Job = new JobSpec { Workers = 2, Port = TestPorts.FreePair(), Checkpoints = new() { Dir = directory.Path, Every = 10 }, Elastic = new() { MaxRestarts = 3 } },
        };
        await using var host = await CoordinatorHost.StartAsync(options);
        var catalog = host.Grains.GetGrain<ICheckpointCatalogGrain>(options.JobId);
        var job = host.Grains.GetGrain<IJobGrain>(options.JobId);
        async Task CommitAsync(long step, long epoch)
        {
            foreach (int rank in new[] { 1, 0 })
            {
                string checksum = CheckpointStore.WriteShard(directory.Path, step, rank, writer => writer.Write(rank * 31 + step));
                Assert.True(await catalog.ReportShardAsync(new Dtrain.Coordinator.Grains.ShardReport
                {
                    Rank = rank, Step = step, File = CheckpointStore.ShardName(rank), Checksum = checksum, WorldSize = 2, Epoch = epoch,
                }));
            }
        }
        async Task<EpochRestart> RestartAsync(long epoch, int reportedStep)
        {
            await job.ReportProgressAsync(new RankProgress { Rank = 0, Step = reportedStep, Loss = 0.5, Samples = 8L * reportedStep, Epoch = epoch });
            await host.EndEpochAsync(epoch, "rank 1 was lost");
            return (await job.GetStatusAsync()).LastRestart!;
        }

        await CommitAsync(10, epoch: 1);
        await CommitAsync(20, epoch: 1);
        var first = await RestartAsync(1, reportedStep: 15);   // the last report came before the commit of step 20
        Assert.Equal((20, 20, "rank 1 was lost"), (first.ResumeStep, first.ReachedStep, first.Reason));

        await CommitAsync(30, epoch: 2);
        Corrupt.FlipBits(Path.Combine(CheckpointStore.DirectoryOf(directory.Path, 30), CheckpointStore.ShardName(1)), 0x10);
        var second = await RestartAsync(2, reportedStep: 34);
        Assert.Equal((20, 34), (second.ResumeStep, second.ReachedStep));
        Assert.StartsWith($"rank 1 was lost; checkpoint {CheckpointStore.DirectoryOf(directory.Path, 30)} skipped: ", second.Reason);
        Assert.Equal(20, await catalog.GetResumeStepAsync());

        // Epoch 3 trains steps 21 to 30 again, and commits step 30 anew; then its manifest is deleted.
        await CommitAsync(30, epoch: 3);
        File.Delete(Path.Combine(CheckpointStore.DirectoryOf(directory.Path, 30), CheckpointStore.ManifestName));
        var third = await RestartAsync(3, reportedStep: 31);
        Assert.Equal((20, 31), (third.ResumeStep, third.ReachedStep));
        Assert.Equal($"rank 1 was lost; checkpoint {CheckpointStore.DirectoryOf(directory.Path, 30)} skipped: its manifest is gone", third.Reason);
    }
}
