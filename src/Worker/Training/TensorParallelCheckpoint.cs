using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.TensorParallel.Grid;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dtrain.Worker.Training;

/// <summary>
/// Checkpoint shards of tensor-parallel training (<see cref="TensorParallelTrainer"/>). Each rank of the grid holds
/// one cell's block of every weight, so each writes what it holds as the cell's shard: the grid's shape, the cell's
/// position, and its block of every weight with the block's Adam state. Loading reads the shard of the cell this
/// rank holds now (the shard map may have placed it on another rank), so a checkpoint loads only onto a grid of the
/// shape that wrote it; another shape is refused by name. The data position needs no saving: batches are
/// pure functions of the seed and the step.
/// </summary>
public sealed class TensorParallelCheckpoint(JobSpec job, ShardReport report) : ShardedCheckpoint(job, report)
{
    /// <summary>The step training starts at: 0, or the one the job resumes at, whose checkpoint is then loaded.</summary>
    public static int StartStep(TensorParallelCheckpoint? checkpoint, JobSpec job, ProcessGrid grid, nn.Module model, Adam adam) =>
        StartStep(checkpoint, job, loaded => loaded.Load(grid, model, adam));

    public async Task WriteAsync(ProcessGrid grid, long step, nn.Module model, Adam adam, CancellationToken ct)
    {
        var blocks = model.parameters().ToArray();
        var adamStates = adam.state_dict().State;
        await WriteShardAsync(grid.Cell, step, writer =>
        {
            using var scope = NewDisposeScope();
            writer.Write(grid.Rows);
            writer.Write(grid.Cols);
            writer.Write(grid.Row);
            writer.Write(grid.Col);
            writer.Write(blocks.Length);
            for (int i = 0; i < blocks.Length; i++)
            {
                blocks[i].detach().cpu().Save(writer);
                adamStates[i].SaveStateDict(writer);
            }
        }, ct);
    }

    /// <summary>Loads this rank's blocks and their Adam state from its cell's shard of the checkpoint after <see cref="JobSpec.ResumeStep"/> steps.</summary>
    public void Load(ProcessGrid grid, nn.Module model, Adam adam)
    {
        var manifest = CheckpointStore.ReadManifest(Job.CheckpointDir, Job.ResumeStep);
        // Another world size is refused below by the grid shape its first shard names.
        int shard = grid.Cell < manifest.WorldSize ? grid.Cell : 0;
        using var reader = CheckpointStore.ReadShard(Job.CheckpointDir, manifest, shard);
        ReadHeader(reader, shard, manifest.Step);
        int rows = reader.ReadInt32(), cols = reader.ReadInt32(), row = reader.ReadInt32(), col = reader.ReadInt32();
        if (rows != grid.Rows || cols != grid.Cols)
        {
            throw new DtrainException($"the checkpoint of step {manifest.Step} was written by a {rows} x {cols} grid; this job runs a {grid} grid");
        }
        if (row != grid.Row || col != grid.Col)
        {
            throw new DtrainException($"checkpoint shard {shard} of step {manifest.Step} holds grid position ({row}, {col}), not cell {shard}'s ({grid.Row}, {grid.Col})");
        }
        var blocks = model.parameters().ToArray();
        var adamStates = adam.state_dict().State;
        int count = reader.ReadInt32();
        if (count != blocks.Length)
        {
            throw new DtrainException($"checkpoint shard {shard} of step {manifest.Step} holds {count} weights; this model has {blocks.Length}");
        }
        using var _ = no_grad();
        for (int i = 0; i < blocks.Length; i++)
        {
            using var saved = Tensor.Load(reader);
            if (!saved.shape.SequenceEqual(blocks[i].shape))
            {
                throw new DtrainException($"checkpoint shard {shard} of step {manifest.Step} holds a {Shape(saved)} block of weight {i}; this rank's is {Shape(blocks[i])}");
            }
            blocks[i].copy_(saved);
            adamStates[i].LoadStateDict(reader);
        }
    }

    private static string Shape(Tensor tensor) => string.Join(" x ", tensor.shape);
}
