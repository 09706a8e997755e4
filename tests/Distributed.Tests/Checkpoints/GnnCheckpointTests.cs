using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Models.Graph;
using Dtrain.Tests.Graph;
using Dtrain.Training;

namespace Dtrain.Tests.Checkpoints;

/// <summary>A graphsage checkpoint resumes only a job whose network has the same kind of layers.</summary>
public class GnnCheckpointTests
{
    private const long Step = 3;

    [Fact]
    public async Task A_checkpoint_of_another_gnn_is_refused_by_name()
    {
        using var directory = new TempDirectory();
        var written = new JobSpec { Model = ModelKind.Graphsage, Workers = 1, Checkpoints = new() { Dir = directory.Path } };
        await WriteAsync(written);

        var resumed = written with { Checkpoints = written.Checkpoints with { ResumeStep = Step } };
        Assert.Equal(Step, await StartStepAsync(resumed));
        var problem = await Assert.ThrowsAsync<DtrainException>(() => StartStepAsync(resumed with { Graph = new() { Gnn = GnnKind.Gat } }));
        Assert.Equal("the checkpoint of step 3 was written by model graphsage, and this job trains graphsage (gnn gat)", problem.Message);
    }

    private static GraphNetwork Network(JobSpec job) => new(job.Graph.Gnn, inputs: 4, hidden: 8, outputs: 2, layerCount: 2);

    /// <summary>Writes and commits a one-rank checkpoint after <see cref="Step"/> steps.</summary>
    private static async Task WriteAsync(JobSpec job)
    {
        var comm = InProcessGroup.Create(1)[0];
        using var model = Network(job);
        using var optimizer = await ReplicatedOptimizer.CreateAsync(model, comm, job, default);
        CheckpointShard? shard = null;
        var checkpoint = new DataParallelCheckpoint(job, (rank, _, file, checksum, _) =>
        {
            shard = new CheckpointShard { Rank = rank, File = file, Checksum = checksum };
            return Task.CompletedTask;
        });
        await checkpoint.WriteAsync(0, 1, Step, model, optimizer, default);
        CheckpointStore.Commit(job.Checkpoints.Dir, new CheckpointManifest
        {
            FormatVersion = CheckpointManifest.CurrentFormatVersion, Step = Step, WorldSize = 1, Shards = [shard!],
        }, keep: 1);
    }

    private static async Task<int> StartStepAsync(JobSpec job)
    {
        var comm = InProcessGroup.Create(1)[0];
        using var model = Network(job);
        using var optimizer = await ReplicatedOptimizer.CreateAsync(model, comm, job, default);
        return DataParallelCheckpoint.StartStep(new DataParallelCheckpoint(job, (_, _, _, _, _) => Task.CompletedTask), job, model, optimizer);
    }
}
