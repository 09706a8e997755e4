using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Coordinator.Grains;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Coordinator;

/// <summary>
/// The steps an in-place restart names, through the coordinator's own grains: the step it resumes from is the newest
/// whole checkpoint of the job (one found corrupted or gone is passed over, and said so), and the step reached is
/// never before it, however far behind the progress reports are.
/// </summary>
public sealed class RestartStepTests
{
    private const string JobId = "restart-steps";

    /// <summary>Writes both ranks' shards of <paramref name="step"/> and reports them, as the workers do, so the coordinator commits it.</summary>
    private static async Task CommitAsync(ICheckpointCatalogGrain catalog, string root, long step)
    {
        var random = new Random((int)step);
        foreach (int rank in new[] { 1, 0 })
        {
            string checksum = CheckpointStore.WriteShard(root, step, rank, writer => writer.Write(random.NextDouble()));
            Assert.True(await catalog.ReportShardAsync(new Dtrain.Coordinator.Grains.ShardReport { Rank = rank, Step = step, File = CheckpointStore.ShardName(rank), Checksum = checksum, WorldSize = 2 }));
        }
    }

    [Theory]
    [InlineData("whole", 45)]
    [InlineData("corrupted", 40)]
    [InlineData("unlisted", 40)]
    public async Task A_restart_resumes_from_the_newest_whole_checkpoint_and_never_after_the_step_reached(string newest, long resumed)
    {
        using var directory = new TempDirectory();
        var options = new CoordinatorOptions
        {
            JobId = JobId, JobToken = JobToken.Generate(),
            Job = new JobSpec { Workers = 2, Port = TestPorts.FreePair(), Checkpoints = new() { Dir = directory.Path, Every = 5 }, Elastic = new() { MaxRestarts = 2 } },
        };
        await using var host = await CoordinatorHost.StartAsync(options);
        var (job, catalog) = (host.Grains.GetGrain<IJobGrain>(JobId), host.Grains.GetGrain<ICheckpointCatalogGrain>(JobId));
        await CommitAsync(catalog, directory.Path, 40);
        await CommitAsync(catalog, directory.Path, 45);
        // The ranks' last progress reports, behind the checkpoint they committed since.
        foreach (int rank in new[] { 0, 1 }) await job.ReportProgressAsync(new RankProgress { Rank = rank, Step = 39 - rank, Loss = 0.5, Samples = 64 });
        string step45 = CheckpointStore.DirectoryOf(directory.Path, 45);
        if (newest == "corrupted") Corrupt.FlipBits(Path.Combine(step45, CheckpointStore.ShardName(1)), 0x04);
        if (newest == "unlisted") File.Delete(Path.Combine(step45, CheckpointStore.ManifestName));

        await job.EndEpochAsync(1, "worker 1 failed (exit code 137)");

        var restart = (await job.GetStatusAsync()).LastRestart!;
        Assert.Equal((45L, resumed), (restart.ReachedStep, restart.ResumeStep));
        // What every worker of the new epoch is told when it joins.
        Assert.Equal(resumed, await catalog.GetResumeStepAsync());
        if (newest == "whole")
        {
            Assert.Empty(restart.SkippedCheckpoints);
            return;
        }
        var skipped = Assert.Single(restart.SkippedCheckpoints);
        Assert.StartsWith($"checkpoint {step45} skipped: ", skipped);
        Assert.Contains(newest == "corrupted" ? "is corrupted" : "cannot be read", skipped);
    }

    /// <summary>The manifest's disk is full (/dev/full in the place of its temporary file): the job fails in the coordinator's words, naming the file.</summary>
    [Fact]
    public async Task A_manifest_the_coordinator_cannot_write_fails_the_job_by_name()
    {
        using var directory = new TempDirectory();
        var spec = new JobSpec { Workers = 2, Port = TestPorts.FreePair(), Checkpoints = new() { Dir = directory.Path, Every = 5 } };
        await using var host = await CoordinatorHost.StartAsync(new CoordinatorOptions { JobId = JobId, JobToken = JobToken.Generate(), Job = spec });
        var catalog = host.Grains.GetGrain<ICheckpointCatalogGrain>(JobId);
        await CommitAsync(catalog, directory.Path, 5);
        string manifest = Path.Combine(Directory.CreateDirectory(CheckpointStore.DirectoryOf(directory.Path, 10)).FullName, CheckpointStore.ManifestName);
        File.CreateSymbolicLink($"{manifest}.tmp-{Environment.ProcessId}", "/dev/full");

        var report = new Dtrain.Coordinator.Grains.ShardReport { Rank = 0, Step = 10, File = CheckpointStore.ShardName(0), WorldSize = 1, Checksum = CheckpointStore.WriteShard(directory.Path, 10, 0, writer => writer.Write(3L)) };
        Assert.False(await catalog.ReportShardAsync(report));

        var status = await host.Grains.GetGrain<IJobGrain>(JobId).GetStatusAsync();
        Assert.Equal(JobState.Failed, status.State);
        Assert.Equal($"the coordinator cannot commit the checkpoint of step 10: cannot write checkpoint file {manifest}: the disk is full (no space left on the device)", status.Failure);
        Assert.Equal(5, CheckpointStore.LatestValid(directory.Path, out _)!.Step);
    }

    [Fact]
    public async Task The_coordinator_names_the_job_in_every_manifest_it_commits()
    {
        using var directory = new TempDirectory();
        var spec = new JobSpec { Workers = 2, Seed = 7, Port = TestPorts.FreePair(), Model = ModelKind.Graphsage, Graph = new() { Gnn = GnnKind.Gat }, Checkpoints = new() { Dir = directory.Path, Every = 5 } };
        await using var host = await CoordinatorHost.StartAsync(new CoordinatorOptions { JobId = JobId, JobToken = JobToken.Generate(), Job = spec });

        await CommitAsync(host.Grains.GetGrain<ICheckpointCatalogGrain>(JobId), directory.Path, 5);

        Assert.Equal(new CheckpointIdentity { JobId = JobId, Model = "graphsage (gnn gat)", Optimizer = "adam", Seed = 7, Workers = 2 },
            CheckpointStore.ReadManifest(directory.Path, 5).Job);
    }
}
