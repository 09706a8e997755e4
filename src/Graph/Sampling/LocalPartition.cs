using System.Runtime.CompilerServices;
using Dtrain.Contracts;
using Dtrain.Graph.Partitioning;

namespace Dtrain.Graph.Sampling;

/// <summary>Sampling and feature lookups on a partition held in this process; the sampling service serves one of these.</summary>
public sealed class LocalPartition : IPartitionSource
{
    /// <summary>Seeds per parallel chunk: big enough that scheduling costs little next to the draws, small enough to balance two cores.</summary>
    private const int ChunkSize = 1024;

    /// <summary>How many seeds ahead counting and drawing prefetch what the seed's draw will read.</summary>
    private const int Lookahead = 8;

    public LocalPartition(GraphPartition partition)
    {
        Partition = partition;
        // Sampling and feature fetches read these at random.
        HugePages.Request(partition.InOffsets);
        HugePages.Request(partition.InSources);
        HugePages.Request(partition.EdgeWeights);
        HugePages.Request(partition.Features);
    }

    public GraphPartition Partition { get; }

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

    /// <summary>Samples the seeds' in-neighbours into <paramref name="drawn"/>, which a sampler keeps from hop to hop.</summary>
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
            var (first, end) = ChunkBounds(chunk, seeds.Length);
            chunkStarts[chunk + 1] = Count(seeds.AsSpan(first..end), hop, scratch, drawn.Counts[first..end]);
            return scratch;
        }, _ => { });
        for (int chunk = 0; chunk < chunks; chunk++) chunkStarts[chunk + 1] += chunkStarts[chunk];
        drawn.SetNeighbourCount(chunkStarts[^1]);
        Parallel.For(0, chunks, () => new Scratch(), (chunk, _, scratch) =>
        {
            var (first, end) = ChunkBounds(chunk, seeds.Length);
            Draw(seeds.AsSpan(first..end), hop, scratch, drawn.Counts[first..end], drawn.Neighbours.AsSpan(chunkStarts[chunk]..chunkStarts[chunk + 1]));
            return scratch;
        }, _ => { });
    }

    private static (int First, int End) ChunkBounds(int chunk, int length) => (chunk * ChunkSize, Math.Min(length, (chunk + 1) * ChunkSize));

    /// <summary>How many neighbours each seed's draw returns, into <paramref name="counts"/>.</summary>
    /// <returns>Their sum.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first batch: no slow first tier
    private int Count(ReadOnlySpan<int> seeds, HopRequest hop, Scratch scratch, Span<int> counts)
    {
        int total = 0;
        for (int i = 0; i < seeds.Length; i++)
        {
            if (i + Lookahead < seeds.Length) CachePrefetch.Read(in Partition.InOffsets[seeds[i + Lookahead] - Partition.FirstNode]);
            var candidates = Candidates(seeds[i], hop.Holdout, scratch, out var weights);
            total += counts[i] = Math.Min(hop.Fanout, hop.Weighted ? NeighbourDraw.Drawable(weights) : candidates.Length);
        }
        return total;
    }

    /// <summary>Draws each seed's neighbours into its slice of <paramref name="output"/>, <paramref name="counts"/> long.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Draw(ReadOnlySpan<int> seeds, HopRequest hop, Scratch scratch, ReadOnlySpan<int> counts, Span<int> output)
    {
        if (!hop.Weighted && hop.Holdout is null)
        {
            DrawUniform(seeds, hop, counts, output);
            return;
        }
        for (int i = 0; i < seeds.Length; i++)
        {
            int node = seeds[i];
            var candidates = Candidates(node, hop.Holdout, scratch, out var weights);
            if (hop.Weighted) NeighbourDraw.Weighted(candidates, weights, hop.Fanout, hop.Key, node, output[..counts[i]]);
            else NeighbourDraw.Uniform(candidates, hop.Fanout, hop.Key, node, output[..counts[i]]);
            output = output[counts[i]..];
        }
    }

    /// <summary>
    /// Uniform draws from whole neighbour lists, the common case, as a pipeline over the seeds. A seed's picks are
    /// positions in its list, each likely a cache miss: they are chosen <see cref="Lookahead"/> seeds early, into
    /// the seed's own slice of the output, and prefetched; when the seed's turn comes they are read from cache and
    /// replaced by the neighbours they point at. Its offsets are prefetched another Lookahead seeds earlier.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DrawUniform(ReadOnlySpan<int> seeds, HopRequest hop, ReadOnlySpan<int> counts, Span<int> output)
    {
        var chosen = output;
        for (int ahead = 0; ahead < seeds.Length + Lookahead; ahead++)
        {
            if (ahead + Lookahead < seeds.Length) CachePrefetch.Read(in Partition.InOffsets[seeds[ahead + Lookahead] - Partition.FirstNode]);
            if (ahead < seeds.Length)
            {
                var neighbours = Partition.InNeighbours(seeds[ahead]);
                var positions = chosen[..counts[ahead]];
                NeighbourDraw.UniformPositions(neighbours.Length, hop.Fanout, hop.Key, seeds[ahead], positions);
                foreach (int position in positions) CachePrefetch.Read(in neighbours[position]);
                chosen = chosen[positions.Length..];
            }
            int i = ahead - Lookahead;
            if (i >= 0)
            {
                var neighbours = Partition.InNeighbours(seeds[i]);
                var picks = output[..counts[i]];
                for (int k = 0; k < picks.Length; k++) picks[k] = neighbours[picks[k]];
                output = output[picks.Length..];
            }
        }
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
