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
/// destinations are the seeds), and the input features of Blocks[0]'s source nodes, row-major.
/// </summary>
public sealed record MiniBatch(int[] Seeds, IReadOnlyList<SampledBlock> Blocks, float[] InputFeatures, int FeatureDim)
{
    public int[] InputNodes => Blocks[0].SourceNodes;

    public long SampledEdges => Blocks.Sum(block => (long)block.EdgeCount);
}
