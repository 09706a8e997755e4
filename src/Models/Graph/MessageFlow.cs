using static TorchSharp.torch;

namespace Dtrain.Models.Graph;

/// <summary>
/// One sampled block as tensors, what a GraphSAGE layer consumes: edges from source rows to destination rows
/// (int64 local indices; the destinations are the first <see cref="DestinationCount"/> sources) and each
/// destination's 1 / in-degree for the mean, 0 for a destination without sampled neighbours.
/// </summary>
public sealed class MessageFlow : IDisposable
{
    public MessageFlow(long destinationCount, Tensor edgeSources, Tensor edgeDestinations)
    {
        (DestinationCount, EdgeSources, EdgeDestinations) = (destinationCount, edgeSources, edgeDestinations);
        using var degrees = zeros(destinationCount, device: edgeDestinations.device)
            .index_add_(0, edgeDestinations, ones(edgeDestinations.shape[0], device: edgeDestinations.device), Scalars.One);
        InverseDegrees = degrees.clamp_min(Scalars.One).reciprocal_().unsqueeze(1);
    }

    public long DestinationCount { get; }

    public Tensor EdgeSources { get; }

    public Tensor EdgeDestinations { get; }

    /// <summary>[destinations, 1].</summary>
    public Tensor InverseDegrees { get; }

    public void Dispose()
    {
        EdgeSources.Dispose();
        EdgeDestinations.Dispose();
        InverseDegrees.Dispose();
    }
}
