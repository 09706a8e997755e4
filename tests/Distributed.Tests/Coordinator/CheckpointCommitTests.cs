using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Coordinator.Grains;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Coordinator;

/// <summary>What the coordinator's checkpoint catalog writes when every shard of a step is in: a manifest naming the job, or, when it cannot, the job's failure naming why.</summary>
public sealed class CheckpointCommitTests
{
    private const string JobId = "checkpoint-commits";

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
