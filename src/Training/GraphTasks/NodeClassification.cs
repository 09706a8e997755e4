using Dtrain.Graph.Sampling;
using Dtrain.Graph.Storage;
using static TorchSharp.torch;

namespace Dtrain.Training.GraphTasks;

/// <summary>Node classification: each rank trains on the training nodes its partitions own and is tested on their test nodes.</summary>
public sealed class NodeClassification(HeldPartitions partitions, Device device) : IGraphTask
{
    private const int EvaluationBatchSize = 1024;
    private readonly int[] trainNodes = partitions.NodesIn(NodeSplit.Train);

    public int OutputWidth => partitions.ClassCount;

    public int TrainingExampleCount => trainNodes.Length;

    public EdgeHoldout? Holdout => null;

    public TrainingBatch TrainingBatch(int[] examples, ulong key)
    {
        var seeds = examples.Select(i => trainNodes[i]).ToArray();
        return new TrainingBatch(seeds, logits => nn.functional.cross_entropy(logits, Labels(seeds)));
    }

    public IEnumerable<EvaluationBatch> EvaluationBatches(ulong key) => partitions.NodesIn(NodeSplit.Test)
        .Chunk(EvaluationBatchSize)
        .Select(seeds => new EvaluationBatch(seeds, logits => logits.argmax(1).eq(Labels(seeds)).sum().item<long>(), seeds.Length));

    private Tensor Labels(int[] seeds) =>
        tensor(seeds.Select(node => (long)partitions.LabelOf(node)).ToArray()).to(device);
}
