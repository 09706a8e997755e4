using Dtrain.Graph.Sampling;
using static TorchSharp.torch;

namespace Dtrain.Training.GraphTasks;

/// <summary>
/// What a GraphSAGE job learns, apart from how it samples and steps (<see cref="GraphTrainer"/>): which examples a
/// rank trains on, which nodes a batch of them needs, and the loss or score on the model's rows for those nodes.
/// </summary>
public interface IGraphTask
{
    /// <summary>Width of the model's output row per node: classes, or an embedding.</summary>
    int OutputWidth { get; }

    /// <summary>Training examples this rank owns (nodes or edges), indexed 0 .. count - 1.</summary>
    int TrainingExampleCount { get; }

    /// <summary>Edges the sampler must skip; null when every edge may carry messages.</summary>
    EdgeHoldout? Holdout { get; }

    /// <param name="examples">Distinct example indices.</param>
    /// <param name="key">Random key of the batch, for anything the task draws (negative samples).</param>
    TrainingBatch TrainingBatch(int[] examples, ulong key);

    /// <summary>This rank's held-out examples, in batches.</summary>
    IEnumerable<EvaluationBatch> EvaluationBatches(ulong key);
}

/// <summary>The distinct nodes a batch needs as seeds, and its loss given the model's rows for them (in seed order).</summary>
public sealed record TrainingBatch(int[] Seeds, Func<Tensor, Tensor> Loss);

/// <summary>The seeds of a held-out batch, how many of its examples the model's rows get right, and how many there are.</summary>
public sealed record EvaluationBatch(int[] Seeds, Func<Tensor, long> Correct, int Examples);
