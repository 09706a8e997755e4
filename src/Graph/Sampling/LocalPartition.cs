using Dtrain.Contracts;
using Dtrain.Graph.Partitioning;

namespace Dtrain.Graph.Sampling;

/// <summary>Sampling and feature lookups on a partition held in this process; the sampling service serves one of these.</summary>
public sealed class LocalPartition(GraphPartition partition) : IPartitionSource
{
    /// <summary>Seeds per parallel chunk: big enough that scheduling costs little next to the draws.</summary>
    private const int ChunkSize = 4096;

    public GraphPartition Partition { get; } = partition;

    public int PartitionId => Partition.Id;

    public int FeatureDim => Partition.FeatureDim;

    public Task<SampledNeighbours> SampleAsync(int[] seeds, HopRequest hop, CancellationToken ct) =>
        Task.Run(() => Sample(seeds, hop), ct);

    public Task<float[]> FetchFeaturesAsync(int[] nodes, CancellationToken ct) => Task.FromResult(Features(nodes));

    public SampledNeighbours Sample(ReadOnlySpan<int> seeds, HopRequest hop)
    {
        if (hop.Fanout <= 0) throw new DtrainException($"fanout must be positive, got {hop.Fanout}");
        if (hop.Weighted && Partition.EdgeWeights is null) throw new DtrainException($"weighted sampling needs edge weights, and partition {PartitionId} has none");
        CheckOwned(seeds);
        var counts = new int[seeds.Length];
        var starts = new int[seeds.Length + 1];
        var scratch = new Scratch();
        for (int i = 0; i < seeds.Length; i++)
        {
            var candidates = Candidates(seeds[i], hop.Holdout, scratch, out var weights);
            counts[i] = Math.Min(hop.Fanout, hop.Weighted ? NeighbourDraw.Drawable(weights) : candidates.Length);
            starts[i + 1] = starts[i] + counts[i];
        }
        var neighbours = new int[starts[^1]];
        var seedArray = seeds.ToArray();
        // Each seed writes its own slice, so chunks run in parallel and the result does not depend on scheduling.
        Parallel.For(0, (seeds.Length + ChunkSize - 1) / ChunkSize, () => new Scratch(), (chunk, _, chunkScratch) =>
        {
            int end = Math.Min(seedArray.Length, (chunk + 1) * ChunkSize);
            for (int i = chunk * ChunkSize; i < end; i++)
            {
                int node = seedArray[i];
                var candidates = Candidates(node, hop.Holdout, chunkScratch, out var weights);
                var output = neighbours.AsSpan(starts[i], counts[i]);
                if (hop.Weighted) NeighbourDraw.Weighted(candidates, weights, hop.Fanout, hop.Key, node, output);
                else NeighbourDraw.Uniform(candidates, hop.Fanout, hop.Key, node, output);
            }
            return chunkScratch;
        }, _ => { });
        return new SampledNeighbours(counts, neighbours);
    }

    public float[] Features(ReadOnlySpan<int> nodes)
    {
        CheckOwned(nodes);
        int dim = FeatureDim;
        var rows = new float[nodes.Length * dim];
        for (int i = 0; i < nodes.Length; i++) Partition.FeaturesOf(nodes[i]).CopyTo(rows.AsSpan(i * dim, dim));
        return rows;
    }

    /// <summary>
    /// The in-neighbours (and their weights, empty when unweighted) a draw for <paramref name="node"/> chooses
    /// from: all of them, or, with a holdout, those whose edge is not held out, copied into the scratch buffers.
    /// </summary>
    private ReadOnlySpan<int> Candidates(int node, EdgeHoldout? holdout, Scratch scratch, out ReadOnlySpan<float> weights)
    {
        var all = Partition.InNeighbours(node);
        var allWeights = Partition.EdgeWeights is null ? default : Partition.WeightsOf(node);
        if (holdout is null)
        {
            weights = allWeights;
            return all;
        }
        scratch.Reserve(all.Length);
        int kept = 0;
        for (int i = 0; i < all.Length; i++)
        {
            if (holdout.IsHeldOut(all[i], node)) continue;
            scratch.Neighbours[kept] = all[i];
            if (!allWeights.IsEmpty) scratch.Weights[kept] = allWeights[i];
            kept++;
        }
        weights = allWeights.IsEmpty ? default : scratch.Weights.AsSpan(0, kept);
        return scratch.Neighbours.AsSpan(0, kept);
    }

    /// <summary>Reused buffers for filtered neighbour lists, one per thread.</summary>
    private sealed class Scratch
    {
        public int[] Neighbours { get; private set; } = [];

        public float[] Weights { get; private set; } = [];

        public void Reserve(int length)
        {
            if (Neighbours.Length >= length) return;
            Neighbours = new int[length];
            Weights = new float[length];
        }
    }

    private void CheckOwned(ReadOnlySpan<int> nodes)
    {
        foreach (int node in nodes)
        {
            if (!Partition.Owns(node))
            {
                throw new DtrainException(
                    $"node {node} is not owned by partition {PartitionId}, which owns nodes {Partition.FirstNode} to {Partition.FirstNode + Partition.NodeCount - 1}");
            }
        }
    }
}
