using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Distributed.Checkpoints;
using Dtrain.Optimizers.Flat;
using static TorchSharp.torch;

namespace Dtrain.Training;

/// <summary>
/// The checkpoints of the built-in data-parallel jobs (the MLP, the transformer LM, GraphSAGE):
/// <see cref="ReplicatedCheckpoint"/> shards with, after the parameters, Distributed Shampoo's blocks (each rank its
/// own), or the Adam state per parameter (<see cref="AdamWStates"/>, in shard 0, so that it loads onto any number of
/// ranks; ZeRO-1 gathers it first). The data position needs no saving: batches and every random draw are pure
/// functions of the seed and the step.
/// </summary>
/// <param name="report">Tells the coordinator a shard is written.</param>
public sealed class DataParallelCheckpoint(JobSpec job, ShardReport report)
{
    // Replicated and ZeRO-1 Adam save the same state, so either resumes the other; checkpoints that held TorchSharp's
    // per-parameter Adam state are refused by the optimizer's name.
    private readonly ReplicatedCheckpoint shards = new(job, CheckpointIdentity.ModelName(job), JobJson.Name(job.Optimizer) + (job.Optimizer == OptimizerKind.Adam ? " (flat state)" : ""), report);

    public ShardReport Report => report;

    /// <summary>The step training starts at: 0, or the one the job resumes at, whose checkpoint is then loaded.</summary>
    public static int StartStep(DataParallelCheckpoint? checkpoint, JobSpec job, nn.Module model, ReplicatedOptimizer optimizer) =>
        ShardedCheckpoint.StartStep(checkpoint?.shards, job, loaded => loaded.Load(model, null, LoadRest(optimizer)));

    /// <summary>Writes this rank's shard; every rank calls it at the same step (ZeRO-1 gathers its state first).</summary>
    public async Task WriteAsync(int rank, int worldSize, long step, nn.Module model, ReplicatedOptimizer optimizer, CancellationToken ct)
    {
        var adamState = optimizer.Sharded is { } sharded ? await sharded.GatherStateAsync(ct) : optimizer.Adam?.State;
        try
        {
            Action<Stream>? writeRest = optimizer.Shampoo is { } shampoo ? shampoo.SaveState
                : adamState is not null ? AdamWStates.Writer(rank, adamState)
                : null;
            await shards.WriteAsync(rank, worldSize, step, model, null, writeRest, ct);
        }
        finally
        {
            if (adamState is not null) AdamWStates.Dispose(adamState);
        }
    }

    /// <summary>How <see cref="TrainingLoop"/> writes this rank's shard of <paramref name="model"/> and its optimizer state.</summary>
    public Func<int, CancellationToken, Task> WriterOf(int rank, int worldSize, nn.Module model, ReplicatedOptimizer optimizer) =>
        (stepsTaken, ct) => WriteAsync(rank, worldSize, stepsTaken, model, optimizer, ct);

    private static Action<IEnumerable<Stream>>? LoadRest(ReplicatedOptimizer optimizer)
    {
        if (optimizer.Shampoo is { } shampoo) return shampoo.LoadState;
        if (optimizer.Sharded is { } sharded) return AdamWStates.Reader(sharded.Parameters, sharded.LoadState);
        return optimizer.Adam is { } adam ? AdamWStates.Reader(adam.Parameters, adam.LoadState) : null;
    }
}
