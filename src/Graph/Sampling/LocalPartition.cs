using Dtrain.Contracts;
using Dtrain.Graph.Partitioning;

namespace Dtrain.Graph.Sampling;

/// <summary>Sampling and feature lookups on a partition held in this process; the sampling service serves one of these.</summary>
public sealed class LocalPartition(GraphPartition partition) : IPartitionSource
{
    /// <summary>Seeds per parallel chunk: big enough that scheduling costs little next to the draws, small enough to balance two cores.</summary>
    private const int ChunkSize = 1024;

    public GraphPartition Partition { get; } = partition;

    public int PartitionId => Partition.Id;

    public int FeatureDim => Partition.FeatureDim;

    public Task<SampledNeighbours> SampleAsync(int[] seeds, HopRequest hop, CancellationToken ct) =>
        Task.Run(() => Sample(seeds, hop), ct);

    public Task<float[]> FetchFeaturesAsync(int[] nodes, CancellationToken ct) => Task.FromResult(Features(nodes));

    public SampledNeighbours Sample(ReadOnlySpan<int> seeds, HopRequest hop)
    {
        var drawn = new DrawnNeighbours();
        Sample(seeds.ToArray(), hop, drawn);
        return drawn.ToSampledNeighbours();
    }

    /// <summary>Samples the seeds' in-neighbours into <paramref name="drawn"/>, the sampler's reused buffers.</summary>
    internal void Sample(int[] seeds, HopRequest hop, DrawnNeighbours drawn)
    {
        if (hop.Fanout <= 0) throw new DtrainException($"fanout must be positive, got {hop.Fanout}");
        if (hop.Weighted && Partition.EdgeWeights is null) throw new DtrainException($"weighted sampling needs edge weights, and partition {PartitionId} has none");
        CheckOwned(seeds);
        drawn.Reset(seeds.Length);
        int chunks = (seeds.Length + ChunkSize - 1) / ChunkSize;
        var chunkStarts = new int[chunks + 1];
        // Counting first gives every seed its own slice of the output, so chunks draw in parallel and the result
        // does not depend on scheduling. Counting is parallel too: it is a cache miss per seed.
        Parallel.For(0, chunks, () => new Scratch(), (chunk, _, scratch) =>
        {
            var counts = drawn.Counts;
            int total = 0;
            for (int i = chunk * ChunkSize, end = Math.Min(seeds.Length, i + ChunkSize); i < end; i++)
            {
                var candidates = Candidates(seeds[i], hop.Holdout, scratch, out var weights);
                total += counts[i] = Math.Min(hop.Fanout, hop.Weighted ? NeighbourDraw.Drawable(weights) : candidates.Length);
            }
            chunkStarts[chunk + 1] = total;
            return scratch;
        }, _ => { });
        for (int chunk = 0; chunk < chunks; chunk++) chunkStarts[chunk + 1] += chunkStarts[chunk];
        drawn.SetNeighbourCount(chunkStarts[^1]);
        Parallel.For(0, chunks, () => new Scratch(), (chunk, _, scratch) =>
        {
            var counts = drawn.Counts;
            var output = drawn.Neighbours[chunkStarts[chunk]..];
            for (int i = chunk * ChunkSize, end = Math.Min(seeds.Length, i + ChunkSize); i < end; i++)
            {
                int node = seeds[i];
                var candidates = Candidates(node, hop.Holdout, scratch, out var weights);
                if (hop.Weighted) NeighbourDraw.Weighted(candidates, weights, hop.Fanout, hop.Key, node, output[..counts[i]]);
                else NeighbourDraw.Uniform(candidates, hop.Fanout, hop.Key, node, output[..counts[i]]);
                output = output[counts[i]..];
            }
            return scratch;
        }, _ => { });
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
