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

    public Task<SampledNeighbours> SampleAsync(int[] seeds, int fanout, ulong key, bool weighted, CancellationToken ct) =>
        Task.Run(() => Sample(seeds, fanout, key, weighted), ct);

    public Task<float[]> FetchFeaturesAsync(int[] nodes, CancellationToken ct) => Task.FromResult(Features(nodes));

    public SampledNeighbours Sample(ReadOnlySpan<int> seeds, int fanout, ulong key, bool weighted)
    {
        if (fanout <= 0) throw new DtrainException($"fanout must be positive, got {fanout}");
        if (weighted && Partition.EdgeWeights is null) throw new DtrainException($"weighted sampling needs edge weights, and partition {PartitionId} has none");
        CheckOwned(seeds);
        var counts = new int[seeds.Length];
        var starts = new int[seeds.Length + 1];
        for (int i = 0; i < seeds.Length; i++)
        {
            int candidates = weighted ? NeighbourDraw.Drawable(Partition.WeightsOf(seeds[i])) : Partition.InNeighbours(seeds[i]).Length;
            counts[i] = Math.Min(fanout, candidates);
            starts[i + 1] = starts[i] + counts[i];
        }
        var neighbours = new int[starts[^1]];
        var seedArray = seeds.ToArray();
        // Each seed writes its own slice, so chunks run in parallel and the result does not depend on scheduling.
        Parallel.For(0, (seeds.Length + ChunkSize - 1) / ChunkSize, chunk =>
        {
            int end = Math.Min(seedArray.Length, (chunk + 1) * ChunkSize);
            for (int i = chunk * ChunkSize; i < end; i++)
            {
                int node = seedArray[i];
                var output = neighbours.AsSpan(starts[i], counts[i]);
                if (weighted) NeighbourDraw.Weighted(Partition.InNeighbours(node), Partition.WeightsOf(node), fanout, key, node, output);
                else NeighbourDraw.Uniform(Partition.InNeighbours(node), fanout, key, node, output);
            }
        });
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
