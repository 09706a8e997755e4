using Dtrain.Contracts.Randomness;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Sampling;
using static TorchSharp.torch;

namespace Dtrain.Training.GraphTasks;

/// <summary>
/// Link prediction with negative sampling, as DGL's and PyG's examples do it: the model embeds nodes, an edge
/// u -> v scores h_u · h_v, and each positive edge is paired with a negative u -> w, w drawn uniformly from all
/// nodes; the loss is binary cross-entropy. A share of node pairs is held out (<see cref="EdgeHoldout"/>) and
/// never sampled, so test edges carry no messages. Each rank trains on the remaining edges its partitions own
/// (those into their nodes) and is scored on its held-out ones: the share of them that outscore their negative
/// (an estimate of ROC AUC), which the job reports as its held-out accuracy.
/// </summary>
public sealed class LinkPrediction : IGraphTask
{
    public const double HeldOutShare = 0.1;
    private const long HoldoutStream = 21, NegativeStream = 22;
    private const int EvaluationBatchSize = 512;
    private readonly PartitionBook book;
    private readonly Device device;
    private readonly (int[] Sources, int[] Destinations) trainEdges, testEdges;

    public LinkPrediction(HeldPartitions partitions, long seed, int embeddingWidth, Device device)
    {
        (book, this.device, OutputWidth) = (partitions.Book, device, embeddingWidth);
        Holdout = new EdgeHoldout(CounterRandom.Key(seed, HoldoutStream, 0), HeldOutShare);
        var train = (new List<int>(), new List<int>());
        var test = (new List<int>(), new List<int>());
        foreach (var partition in partitions.All)
        {
            for (int v = partition.FirstNode; v < partition.FirstNode + partition.NodeCount; v++)
            {
                foreach (int u in partition.InNeighbours(v))
                {
                    var (sources, destinations) = Holdout.IsHeldOut(u, v) ? test : train;
                    sources.Add(u);
                    destinations.Add(v);
                }
            }
        }
        trainEdges = ([.. train.Item1], [.. train.Item2]);
        testEdges = ([.. test.Item1], [.. test.Item2]);
    }

    public int OutputWidth { get; }

    public int TrainingExampleCount => trainEdges.Sources.Length;

    public EdgeHoldout Holdout { get; }

    EdgeHoldout? IGraphTask.Holdout => Holdout;

    public TrainingBatch TrainingBatch(int[] examples, ulong key)
    {
        var pairs = PairsWithNegatives(trainEdges, examples, key);
        return new TrainingBatch(pairs.Seeds, embeddings =>
        {
            var (positive, negative) = Scores(embeddings, pairs);
            var targets = cat([ones_like(positive), zeros_like(negative)]);
            return nn.functional.binary_cross_entropy_with_logits(cat([positive, negative]), targets);
        });
    }

    public IEnumerable<EvaluationBatch> EvaluationBatches(ulong key) =>
        Enumerable.Range(0, testEdges.Sources.Length).Chunk(EvaluationBatchSize).Select((examples, batch) =>
        {
            var pairs = PairsWithNegatives(testEdges, examples, CounterRandom.Key((long)key, NegativeStream, batch));
            return new EvaluationBatch(pairs.Seeds, embeddings =>
            {
                var (positive, negative) = Scores(embeddings, pairs);
                return positive.gt(negative).sum().item<long>();
            }, examples.Length);
        });

    /// <summary>The batch's edges, a negative per edge, and every endpoint's position among the distinct seeds.</summary>
    private Pairs PairsWithNegatives((int[] Sources, int[] Destinations) edges, int[] examples, ulong key)
    {
        var random = new CounterRandom(CounterRandom.Mix(key ^ NegativeStream));
        var position = new Dictionary<int, long>();
        var seeds = new List<int>();
        long PositionOf(int node)
        {
            if (!position.TryGetValue(node, out long index))
            {
                position[node] = index = seeds.Count;
                seeds.Add(node);
            }
            return index;
        }
        var (sources, destinations, negatives) = (new long[examples.Length], new long[examples.Length], new long[examples.Length]);
        for (int i = 0; i < examples.Length; i++)
        {
            sources[i] = PositionOf(edges.Sources[examples[i]]);
            destinations[i] = PositionOf(edges.Destinations[examples[i]]);
            negatives[i] = PositionOf(random.NextInt(book.NodeCount));
        }
        return new Pairs([.. seeds], sources, destinations, negatives);
    }

    private (Tensor Positive, Tensor Negative) Scores(Tensor embeddings, Pairs pairs)
    {
        var source = embeddings.index_select(0, tensor(pairs.Sources).to(device));
        var positive = source.mul(embeddings.index_select(0, tensor(pairs.Destinations).to(device))).sum(1);
        var negative = source.mul(embeddings.index_select(0, tensor(pairs.Negatives).to(device))).sum(1);
        return (positive, negative);
    }

    private sealed record Pairs(int[] Seeds, long[] Sources, long[] Destinations, long[] Negatives);
}
