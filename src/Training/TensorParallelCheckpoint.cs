using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers;
using Dtrain.TensorParallel.Grid;
using Dtrain.TensorParallel.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dtrain.Training;

/// <summary>
/// Checkpoint shards of tensor-parallel training (<see cref="TensorParallelTrainer"/>). Each rank of the grid holds
/// one cell's block of every weight, so each writes what it holds as the cell's shard: the grid's shape, the cell's
/// position, and its block of every weight with the block's Adam state. Loading onto the grid shape that wrote it
/// reads the shard of the cell this rank holds now (the shard map may have placed it on another rank); onto a grid
/// of another shape (another square number of workers), every shard, re-blocked. The data position needs no
/// saving: batches are pure functions of the seed and the step.
/// </summary>
public sealed class TensorParallelCheckpoint(JobSpec job, ShardReport report) : ShardedCheckpoint(job, JobJson.Name(job.Model), JobJson.Name(job.Optimizer), report)
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

    /// <summary>How <see cref="TrainingLoop"/> writes this rank's blocks of <paramref name="model"/> and their Adam state.</summary>
    public Func<int, CancellationToken, Task> WriterOf(ProcessGrid grid, nn.Module model, Adam adam) =>
        (stepsTaken, ct) => WriteAsync(grid, stepsTaken, model, adam, ct);

    /// <summary>
    /// Loads this rank's blocks and their Adam state from the checkpoint after <see cref="JobSpec.ResumeStep"/> steps.
    /// On the grid shape that wrote it, that is its own cell's shard; on another shape, every shard, each giving
    /// the part of its blocks that overlaps this rank's (Adam's state is elementwise, so it re-blocks like the weights).
    /// </summary>
    public void Load(ProcessGrid grid, nn.Module model, Adam adam)
    {
        var manifest = CheckpointStore.ReadManifest(Job.Checkpoints.Dir, Job.Checkpoints.ResumeStep);
        var layers = model.modules().OfType<CannonLinear>().ToArray();
        var blocks = model.parameters().ToArray();
        var adamStates = adam.state_dict().State.Cast<Adam.State>().ToArray();
        using var _ = no_grad();

        int own = Math.Min(grid.Cell, manifest.WorldSize - 1);

        // Copies the part of one shard's blocks that overlaps this rank's; returns the shape of the grid that wrote it.
        (int Rows, int Cols) Apply(int shard, BinaryReader reader, (int Rows, int Cols)? expected)
        {
            int rows = reader.ReadInt32(), cols = reader.ReadInt32(), row = reader.ReadInt32(), col = reader.ReadInt32();
            if (expected is var (expectedRows, expectedCols) && (rows, cols) != (expectedRows, expectedCols))
            {
                throw new DtrainException($"checkpoint shard {shard} of step {manifest.Step} was written by a {rows} x {cols} grid, and shard {own} by a {expectedRows} x {expectedCols} grid");
            }
            if ((row, col) != (shard / cols, shard % cols))
            {
                throw new DtrainException($"checkpoint shard {shard} of step {manifest.Step} holds grid position ({row}, {col}), not its cell's ({shard / cols}, {shard % cols})");
            }
            int count = reader.ReadInt32();
            if (count != blocks.Length)
            {
                throw new DtrainException($"checkpoint shard {shard} of step {manifest.Step} holds {count} weights; this model has {blocks.Length}");
            }
            for (int i = 0; i < blocks.Length; i++)
            {
                var written = new BlockLayout(layers[i].InFeatures, layers[i].OutFeatures, rows, cols);
                using var saved = new Parameter(Tensor.Load(reader), requires_grad: false);
                if (!saved.shape.SequenceEqual(written.BlockShape(row, col)))
                {
                    throw new DtrainException($"checkpoint shard {shard} of step {manifest.Step} holds a {Shape(saved)} block of weight {i}; " +
                        $"a {layers[i].InFeatures} x {layers[i].OutFeatures} weight on its {rows} x {cols} grid has a {string.Join(" x ", written.BlockShape(row, col))} block there");
                }
                // Its Adam state, read the way it was written: into the state of an optimizer of the saved block.
                using var holder = new HeldAdam([saved]);
                var savedState = (Adam.State)holder.state_dict().State[0];
                savedState.LoadStateDict(reader);
                adamStates[i].step = savedState.step;
                if (Overlap(written, row, col, grid.Layout(layers[i].InFeatures, layers[i].OutFeatures), grid.Row, grid.Col) is not var (from, to)) continue;
                to(blocks[i]).copy_(from(saved));
                to(adamStates[i].exp_avg).copy_(from(savedState.exp_avg));
                to(adamStates[i].exp_avg_sq).copy_(from(savedState.exp_avg_sq));
            }
            return (rows, cols);
        }

        var writer = ReadShard(manifest, own, reader => Apply(own, reader, expected: null));
        if (writer == (grid.Rows, grid.Cols)) return;
        foreach (int shard in Enumerable.Range(0, manifest.WorldSize).Where(shard => shard != own))
        {
            ReadShard(manifest, shard, reader => Apply(shard, reader, writer));
        }
    }

    /// <summary>Reads one shard of the checkpoint: its header checked, then <paramref name="read"/> on the payload.</summary>
    private T ReadShard<T>(CheckpointManifest manifest, int shard, Func<BinaryReader, T> read)
    {
        using var reader = CheckpointStore.ReadShard(Job.Checkpoints.Dir, manifest, shard);
        ReadHeader(reader, shard, manifest.Step);
        return read(reader);
    }

    /// <summary>
    /// Where block (<paramref name="row"/>, <paramref name="col"/>) of one layout and block (<paramref name="newRow"/>,
    /// <paramref name="newCol"/>) of another cut of the same matrix overlap: views of that region in each block, or null.
    /// </summary>
    private static (Func<Tensor, Tensor> From, Func<Tensor, Tensor> To)? Overlap(BlockLayout written, int row, int col, BlockLayout wanted, int newRow, int newCol)
    {
        long top = Math.Max(written.RowStart(row), wanted.RowStart(newRow));
        long bottom = Math.Min(written.RowStart(row) + written.RowCount(row), wanted.RowStart(newRow) + wanted.RowCount(newRow));
        long left = Math.Max(written.ColStart(col), wanted.ColStart(newCol));
        long right = Math.Min(written.ColStart(col) + written.ColCount(col), wanted.ColStart(newCol) + wanted.ColCount(newCol));
        if (top >= bottom || left >= right) return null;
        return (
            block => block.narrow(0, top - written.RowStart(row), bottom - top).narrow(1, left - written.ColStart(col), right - left),
            block => block.narrow(0, top - wanted.RowStart(newRow), bottom - top).narrow(1, left - wanted.ColStart(newCol), right - left));
    }

    private static string Shape(Tensor tensor) => string.Join(" x ", tensor.shape);
}
