using Dtrain.Graph.Sampling;

namespace Dtrain.Launcher.Bench;

/// <summary>A partition source that counts the requests sent through it, so the sampler benchmark can report remote requests per batch.</summary>
public sealed class CountedPartition(IPartitionSource inner) : IPartitionSource
{
    private long requests;

    public long Requests => Interlocked.Read(ref requests);

    public int PartitionId => inner.PartitionId;

    public int FeatureDim => inner.FeatureDim;

    public Task<SampledNeighbours> SampleAsync(int[] seeds, HopRequest hop, CancellationToken ct)
    {
        Interlocked.Increment(ref requests);
        return inner.SampleAsync(seeds, hop, ct);
    }

    public Task<float[]> FetchFeaturesAsync(int[] nodes, CancellationToken ct)
    {
        Interlocked.Increment(ref requests);
        return inner.FetchFeaturesAsync(nodes, ct);
    }
}
