using Dtrain.Contracts.Jobs;
using Dtrain.Distributed.Checkpoints;
using static TorchSharp.torch;

namespace Dtrain.Training;

/// <summary>
/// The checkpoints of the built-in data-parallel jobs (the MLP, GraphSAGE): <see cref="ReplicatedCheckpoint"/> shards
/// with the job's Adam state per parameter, or Distributed Shampoo's blocks after the parameters. The data position
/// needs no saving: batches and every random draw are pure functions of the seed and the step.
/// </summary>
/// <param name="report">Tells the coordinator a shard is written.</param>
public sealed class DataParallelCheckpoint(JobSpec job, ShardReport report)
{
    private readonly ReplicatedCheckpoint shards = new(job, job.Model, job.Optimizer, report);

    public ShardReport Report => report;

    public bool IsDue(int stepsTaken) => shards.IsDue(stepsTaken);

    /// <summary>The step training starts at: 0, or the one the job resumes at, whose checkpoint is then loaded.</summary>
    public static int StartStep(DataParallelCheckpoint? checkpoint, JobSpec job, nn.Module model, ReplicatedOptimizer optimizer) =>
        ShardedCheckpoint.StartStep(checkpoint?.shards, job,
            loaded => loaded.Load(model, optimizer.Adam?.state_dict().State, optimizer.Shampoo is { } shampoo ? shampoo.LoadState : null));

    public Task WriteAsync(int rank, int worldSize, long step, nn.Module model, ReplicatedOptimizer optimizer, CancellationToken ct) =>
        shards.WriteAsync(rank, worldSize, step, model, optimizer.Adam?.state_dict().State, optimizer.Shampoo is { } shampoo ? shampoo.SaveState : null, ct);
}
