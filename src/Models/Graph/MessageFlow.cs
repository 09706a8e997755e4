using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Models.Graph;

/// <summary>
/// One sampled block as tensors, what a graph layer consumes: edges from source rows to destination rows (int64
/// local indices; the destinations are the first <see cref="DestinationCount"/> sources; edges grouped by
/// destination, in destination order, as the sampler writes them) and each destination's 1 / in-degree for the
/// mean, 0 for a destination without sampled neighbours.
/// </summary>
public sealed class MessageFlow : IDisposable
{
    private Tensor? neighbourTable;

    /// <param name="dtype">The model's floating-point type, which <see cref="InverseDegrees"/> is computed in.</param>
    public MessageFlow(long destinationCount, Tensor edgeSources, Tensor edgeDestinations, ScalarType dtype = ScalarType.Float32)
    {
        (DestinationCount, EdgeSources, EdgeDestinations) = (destinationCount, edgeSources, edgeDestinations);
        using var degrees = zeros(destinationCount, dtype: dtype, device: edgeDestinations.device)
            .index_add_(0, edgeDestinations, ones(edgeDestinations.shape[0], dtype: dtype, device: edgeDestinations.device), Scalars.One);
        InverseDegrees = degrees.clamp_min(Scalars.One).reciprocal_().unsqueeze(1);
    }

    public long DestinationCount { get; }

    public Tensor EdgeSources { get; }

    public Tensor EdgeDestinations { get; }

    /// <summary>[destinations, 1].</summary>
    public Tensor InverseDegrees { get; }

    /// <summary>
    /// Per-edge rows <paramref name="perEdge"/> ([edges, ...]) laid out by destination, [destinations, widest, ...]:
    /// row v holds its edges' rows in edge order, then <paramref name="padding"/>. A max or a softmax over each
    /// destination's edges, which libtorch's index reductions do not give TorchSharp, is then one op over dim 1.
    /// </summary>
    public Tensor ByDestination(Tensor perEdge, Scalar padding)
    {
        var table = neighbourTable ??= NeighbourTable();
        long[] rowShape = [1, .. perEdge.shape[1..]];
        var padded = cat([perEdge, full(rowShape, padding, dtype: perEdge.dtype, device: perEdge.device)]);
        return padded.index_select(0, table.view(-1)).view([DestinationCount, table.shape[1], .. perEdge.shape[1..]]);
    }

    /// <summary>[destinations, widest]: each destination's edge indices, padded with the edge count (the padding row).</summary>
    private Tensor NeighbourTable()
    {
        using var scope = NewDisposeScope();
        var device = EdgeDestinations.device;
        long edges = EdgeDestinations.shape[0];
        var counts = zeros(DestinationCount, dtype: int64, device: device).index_add_(0, EdgeDestinations, ones(edges, dtype: int64, device: device), Scalars.WholeOne);
        long widest = Math.Max(1, edges == 0 ? 0 : counts.max().item<long>());
        var firsts = counts.cumsum(0).sub(counts);
        using var edgeCount = edges.ToScalar();
        using var width = widest.ToScalar();
        var edgeIndices = arange(Scalars.WholeZero, edgeCount, Scalars.WholeOne, dtype: int64, device: device);
        var positions = edgeIndices.sub(firsts.index_select(0, EdgeDestinations));
        var slots = EdgeDestinations.mul(width).add(positions, Scalars.WholeOne);
        var table = full(DestinationCount * widest, edgeCount, dtype: int64, device: device).scatter_(0, slots, edgeIndices);
        return table.view(DestinationCount, widest).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        EdgeSources.Dispose();
        EdgeDestinations.Dispose();
        InverseDegrees.Dispose();
        neighbourTable?.Dispose();
    }
}
