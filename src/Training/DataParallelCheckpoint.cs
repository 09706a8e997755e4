using Dtrain.Contracts.Jobs;
using Dtrain.Distributed.Checkpoints;
using Dtrain.Optimizers.Flat;
using static TorchSharp.torch;

namespace Dtrain.Training;

/// <summary>
/// The checkpoints of the built-in data-parallel jobs (the MLP, the transformer LM, GraphSAGE):
/// <see cref="ReplicatedCheckpoint"/> shards with the job's Adam state per parameter; or, after the parameters,
/// Distributed Shampoo's blocks (each rank its own), or ZeRO-1's Adam state gathered per parameter (in shard 0, so that
/// it loads onto any number of ranks). The data position needs no saving: batches and every random draw are pure
/// functions of the seed and the step.
/// </summary>
/// <param name="report">Tells the coordinator a shard is written.</param>
public sealed class DataParallelCheckpoint(JobSpec job, ShardReport report)
{
    // ZeRO-1's state is laid out otherwise than Adam's: a checkpoint of one is refused by the other, by name.
    private readonly ReplicatedCheckpoint shards = new(job, JobJson.Name(job.Model), JobJson.Name(job.Optimizer) + (job.ShardOptimizerState ? " (sharded state)" : ""), report);

    public ShardReport Report => report;

    /// <summary>The step training starts at: 0, or the one the job resumes at, whose checkpoint is then loaded.</summary>
    public static int StartStep(DataParallelCheckpoint? checkpoint, JobSpec job, nn.Module model, ReplicatedOptimizer optimizer) =>
        ShardedCheckpoint.StartStep(checkpoint?.shards, job, loaded => loaded.Load(model, optimizer.Adam?.state_dict().State, LoadRest(optimizer)));

    /// <summary>Writes this rank's shard; every rank calls it at the same step (ZeRO-1 gathers its state first).</summary>
    public async Task WriteAsync(int rank, int worldSize, long step, nn.Module model, ReplicatedOptimizer optimizer, CancellationToken ct)
    {
        var zeroState = optimizer.Sharded is { } sharded ? await sharded.GatherStateAsync(ct) : null;
        try
        {
            Action<Stream>? writeRest = optimizer.Shampoo is { } shampoo ? shampoo.SaveState
                : zeroState is not null ? AdamWStates.Writer(rank, zeroState)
                : null;
            await shards.WriteAsync(rank, worldSize, step, model, optimizer.Adam?.state_dict().State, writeRest, ct);
        }
        finally
        {
            if (zeroState is not null) AdamWStates.Dispose(zeroState);
        }
    }

    /// <summary>How <see cref="TrainingLoop"/> writes this rank's shard of <paramref name="model"/> and its optimizer state.</summary>
    public Func<int, CancellationToken, Task> WriterOf(int rank, int worldSize, nn.Module model, ReplicatedOptimizer optimizer) =>
        (stepsTaken, ct) => WriteAsync(rank, worldSize, stepsTaken, model, optimizer, ct);

    private static Action<IEnumerable<Stream>>? LoadRest(ReplicatedOptimizer optimizer)
    {
        if (optimizer.Shampoo is { } shampoo) return shampoo.LoadState;
        return optimizer.Sharded is { } sharded ? AdamWStates.Reader(sharded.Parameters, sharded.LoadState) : null;
    }
}
