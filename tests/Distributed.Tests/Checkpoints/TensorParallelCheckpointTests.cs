using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Tests.Graph;
using Dtrain.Tests.TensorParallel;
using Dtrain.TensorParallel.Grid;
using Dtrain.TensorParallel.Layers;
using Dtrain.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Tests.Checkpoints;

/// <summary>
/// A tensor-parallel shard read back on a grid of one rank, in this process: a shard that does not fit the job is
/// refused by name. Resuming bitwise on a real 2 x 2 grid is tested in <see cref="CheckpointRunTests"/>.
/// </summary>
public class TensorParallelCheckpointTests
{
    private const long Step = 3;

    private static CannonMlp Model(ProcessGrid grid, long hidden) =>
        new(grid, new BlockMatrix(randn(4, hidden), 4, hidden), new BlockMatrix(randn(hidden, 2), hidden, 2));

    /// <summary>Writes and commits the shard of a one-rank grid's model after <see cref="Step"/> steps.</summary>
    private static async Task WriteAsync(JobSpec job, ProcessGrid grid, CannonMlp model)
    {
        using var adam = torch.optim.Adam(model.parameters(), job.LearningRate);
        CheckpointShard? shard = null;
        var checkpoint = new TensorParallelCheckpoint(job, (rank, _, file, checksum, _) =>
        {
            shard = new CheckpointShard { Rank = rank, File = file, Checksum = checksum };
            return Task.CompletedTask;
        });
        await checkpoint.WriteAsync(grid, Step, model, adam, CancellationToken.None);
        var manifest = new CheckpointManifest { FormatVersion = CheckpointManifest.CurrentFormatVersion, Step = Step, WorldSize = 1, Shards = [shard!] };
        CheckpointStore.Commit(job.Checkpoints.Dir, manifest, keep: 1);
    }

    private static string LoadProblem(JobSpec job, ProcessGrid grid, CannonMlp model)
    {
        using var adam = torch.optim.Adam(model.parameters(), job.LearningRate);
        var checkpoint = new TensorParallelCheckpoint(job with { Checkpoints = job.Checkpoints with { ResumeStep = Step } }, (_, _, _, _, _) => Task.CompletedTask);
        return Assert.Throws<DtrainException>(() => checkpoint.Load(grid, model, adam)).Message;
    }

    [Fact]
    public async Task A_shard_of_another_model_optimizer_or_block_shape_is_refused_by_name()
    {
        using var directory = new TempDirectory();
        var job = new JobSpec { Model = ModelKind.CannonMlp, Checkpoints = new() { Dir = directory.Path } };
        await using var grids = await Grids.InProcessAsync(1, 1);
        var grid = grids.Ranks[0];
        using var written = Model(grid, hidden: 8);
        await WriteAsync(job, grid, written);

        using var narrower = Model(grid, hidden: 6);
        Assert.Equal("checkpoint shard 0 of step 3 holds a 4 x 8 block of weight 0; a 4 x 6 weight on its 1 x 1 grid has a 4 x 6 block there", LoadProblem(job, grid, narrower));
        Assert.Equal("the checkpoint of step 3 was written by model cannon-mlp, and this job trains mlp", LoadProblem(job with { Model = ModelKind.Mlp }, grid, written));
        Assert.Equal("the checkpoint of step 3 was written with optimizer adam, and this job uses shampoo", LoadProblem(job with { Optimizer = OptimizerKind.Shampoo }, grid, written));
    }
}
