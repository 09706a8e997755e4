using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers.Flat;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dtrain.Distributed.Checkpoints;

/// <summary>
/// Sharded checkpoints of any module and its optimizer, in the job's checkpoint directory (`--checkpoint-dir`,
/// every `--checkpoint-every` steps): each rank writes its share, and a checkpoint counts once the coordinator has
/// every shard. <see cref="Load"/> loads the checkpoint the job resumes from (after `--resume`, or after a lost
/// peer ended an epoch), whatever world size wrote it.
/// </summary>
public sealed class JobCheckpoints(JobSpec job, ShardReport report, Communicator communicator)
{
    /// <summary>How a shard, once written, is reported to the coordinator.</summary>
    public ShardReport Report => report;

    /// <summary>Whether a checkpoint is due after <paramref name="stepsTaken"/> steps.</summary>
    public bool IsDue(int stepsTaken) => job.Checkpoints.IsDue(stepsTaken);

    /// <summary>Writes this rank's share of the checkpoint after <paramref name="stepsTaken"/> steps, and reports it.</summary>
    public Task SaveAsync(int stepsTaken, nn.Module model, OptimizerHelper? optimizer = null, CancellationToken ct = default) =>
        For(model, optimizer).WriteAsync(communicator.Rank, communicator.Size, stepsTaken, model, States(optimizer), null, ct);

    /// <summary>
    /// Loads the checkpoint the job resumes from into <paramref name="model"/> and <paramref name="optimizer"/>, and
    /// returns its step: where training goes on. 0, loading nothing, when the job starts afresh.
    /// </summary>
    public int Load(nn.Module model, OptimizerHelper? optimizer = null) =>
        ShardedCheckpoint.StartStep(For(model, optimizer), job, loaded => loaded.Load(model, States(optimizer), null));

    /// <summary>Writes this rank's share of the checkpoint of a model stepped by <see cref="FlatAdamW"/>.</summary>
    public Task SaveAsync(int stepsTaken, nn.Module model, FlatAdamW optimizer, CancellationToken ct = default) =>
        For(model, optimizer).WriteAsync(communicator.Rank, communicator.Size, stepsTaken, model, null, AdamWStates.Writer(communicator.Rank, optimizer.State), ct);

    /// <summary>Writes this rank's share of the checkpoint of a model stepped by ZeRO-1's <see cref="ShardedAdamW"/>; every rank must call it.</summary>
    public async Task SaveAsync(int stepsTaken, nn.Module model, ShardedAdamW optimizer, CancellationToken ct = default)
    {
        var state = await optimizer.GatherStateAsync(ct);
        try
        {
            await For(model, optimizer).WriteAsync(communicator.Rank, communicator.Size, stepsTaken, model, null, AdamWStates.Writer(communicator.Rank, state), ct);
        }
        finally
        {
            AdamWStates.Dispose(state);
        }
    }

    /// <summary>As <see cref="Load(nn.Module, OptimizerHelper?)"/>, for a model stepped by <see cref="FlatAdamW"/>.</summary>
    public int Load(nn.Module model, FlatAdamW optimizer) =>
        ShardedCheckpoint.StartStep(For(model, optimizer), job, loaded => loaded.Load(model, null, AdamWStates.Reader(optimizer.Parameters, optimizer.LoadState)));

    /// <summary>As <see cref="Load(nn.Module, OptimizerHelper?)"/>, for ZeRO-1's <see cref="ShardedAdamW"/>: each rank takes its shard of the state.</summary>
    public int Load(nn.Module model, ShardedAdamW optimizer) =>
        ShardedCheckpoint.StartStep(For(model, optimizer), job, loaded => loaded.Load(model, null, AdamWStates.Reader(optimizer.Parameters, optimizer.LoadState)));

    private ReplicatedCheckpoint For(nn.Module model, object? optimizer) =>
        new(job, model.GetType().Name, optimizer?.GetType().Name ?? "none", report);

    private static IReadOnlyList<OptimizerState>? States(OptimizerHelper? optimizer) => optimizer?.state_dict().State;
}
