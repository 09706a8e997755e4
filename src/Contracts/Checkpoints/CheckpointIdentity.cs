using Dtrain.Contracts.Jobs;

namespace Dtrain.Contracts.Checkpoints;

/// <summary>
/// Whose state a checkpoint holds: the job that committed it, and the settings that shape that state. The
/// coordinator records it in every manifest it commits. A new run refuses a checkpoint directory that holds another
/// job's checkpoints; `--resume` takes only a checkpoint of the same model, optimizer and seed (any world size, as
/// checkpoints reshard); an in-place restart takes only the job's own checkpoints and the one it resumed from.
/// </summary>
public sealed record CheckpointIdentity
{
    /// <summary>The job (its id) that committed the checkpoint.</summary>
    public required string JobId { get; init; }

    /// <summary>The model as the shards' headers name it: a graph network's includes its layers' kind.</summary>
    public required string Model { get; init; }

    public required string Optimizer { get; init; }

    public required long Seed { get; init; }

    /// <summary>The job's workers: its world size, or the most an elastic job trains with.</summary>
    public required int Workers { get; init; }

    public static CheckpointIdentity Of(string jobId, JobSpec job) => new()
    {
        JobId = jobId,
        Model = ModelName(job),
        Optimizer = JobJson.Name(job.Optimizer),
        Seed = job.Seed,
        Workers = job.Workers,
    };

    /// <summary>
    /// The model's name in checkpoints: a graph network's includes its layers' kind, except for sage-mean, which
    /// keeps the name that checkpoints written before the choice carry.
    /// </summary>
    public static string ModelName(JobSpec job) => job.Model == ModelKind.Graphsage && job.Graph.Gnn != GnnKind.SageMean
        ? $"{JobJson.Name(job.Model)} (gnn {JobJson.Name(job.Graph.Gnn)})"
        : JobJson.Name(job.Model);

    /// <summary>
    /// Why a checkpoint of this identity holds another state than <paramref name="job"/> trains (another model,
    /// optimizer or seed); null when it holds the same. The world size may differ: a checkpoint loads onto any.
    /// </summary>
    public string? StateDiffers(CheckpointIdentity job) =>
        Model != job.Model ? $"it holds model {Model}, and this job trains {job.Model}"
        : Optimizer != job.Optimizer ? $"it was written with optimizer {Optimizer}, and this job uses {job.Optimizer}"
        : Seed != job.Seed ? $"it was written with seed {Seed}, and this job has seed {job.Seed}"
        : null;

    public override string ToString() => $"job {JobId} (model {Model}, optimizer {Optimizer}, seed {Seed}, {Workers} workers)";
}
