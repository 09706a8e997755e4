namespace Dtrain.Graph.Sampling;

/// <summary>Sampled in-neighbours of a list of seeds: Counts[i] neighbours of seed i, concatenated in seed order.</summary>
public sealed record SampledNeighbours(int[] Counts, int[] Neighbours);

/// <summary>
/// What one graph partition answers, whether it is this worker's own (<see cref="LocalPartition"/>) or a peer's
/// behind the sampling service (<see cref="Service.RemotePartition"/>). Every node asked about must be owned by it.
/// </summary>
public interface IPartitionSource
{
    int PartitionId { get; }

    int FeatureDim { get; }

    Task<SampledNeighbours> SampleAsync(int[] seeds, HopRequest hop, CancellationToken ct);

    /// <summary>Feature rows of <paramref name="nodes"/>, row-major, in request order.</summary>
    Task<float[]> FetchFeaturesAsync(int[] nodes, CancellationToken ct);
}
