using System.Buffers;

namespace Dtrain.Graph.Sampling;

/// <summary>
/// One layer's bipartite message-flow graph (DGL's block): messages flow from <see cref="SourceNodes"/> to the
/// first <see cref="DestinationCount"/> of them, so the destination nodes are a prefix of the source nodes and a
/// layer can combine each node's own representation with its neighbours'. Edges use local indices into
/// <see cref="SourceNodes"/>; node IDs in it are global.
/// </summary>
public sealed record SampledBlock(int[] SourceNodes, int DestinationCount, int[] EdgeSources, int[] EdgeDestinations)
{
    public int EdgeCount => EdgeSources.Length;
}

/// <summary>
/// A sampled mini-batch: <see cref="Blocks"/> ordered from the input layer to the output layer (Blocks[^1]'s
/// destinations are the seeds), and the input features of Blocks[0]'s source nodes, row-major. The features,
/// megabytes per batch, live in an array rented from the shared pool until Dispose: a fresh array every batch
/// costs more in the kernel's clearing of newly faulted pages than all the copying into it.
/// </summary>
public sealed class MiniBatch(int[] seeds, IReadOnlyList<SampledBlock> blocks, float[] pooledFeatures, int featureDim) : IDisposable
{
    private float[]? features = pooledFeatures;

    public int[] Seeds { get; } = seeds;

    public IReadOnlyList<SampledBlock> Blocks { get; } = blocks;

    public int FeatureDim { get; } = featureDim;

    public int[] InputNodes => Blocks[0].SourceNodes;

    public long SampledEdges => Blocks.Sum(block => (long)block.EdgeCount);

    /// <summary>Rows of <see cref="InputNodes"/>, row-major; valid until the batch is disposed.</summary>
    public ReadOnlySpan<float> InputFeatures =>
        (features ?? throw new ObjectDisposedException(nameof(MiniBatch))).AsSpan(0, InputNodes.Length * FeatureDim);

    public void Dispose()
    {
        if (features is not null) ArrayPool<float>.Shared.Return(features);
        features = null;
    }
}
