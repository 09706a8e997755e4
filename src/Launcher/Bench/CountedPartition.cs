using Dtrain.Graph.Sampling;

namespace Dtrain.Launcher.Bench;

/// <summary>A partition source that counts the requests sent through it, so the sampler benchmark can report remote requests per batch.</summary>
public sealed class CountedPartition(IPartitionSource inner) : IPartitionSource
{
    private long requests;

    public long Requests => Interlocked.Read(ref requests);

    public int PartitionId => inner.PartitionId;

    public int FeatureDim => inner.FeatureDim;

    public Task<SampledNeighbours> SampleAsync(int[] seeds, int fanout, ulong key, bool weighted, CancellationToken ct)
    {
        Interlocked.Increment(ref requests);
        return inner.SampleAsync(seeds, fanout, key, weighted, ct);
    }

    public Task<float[]> FetchFeaturesAsync(int[] nodes, CancellationToken ct)
    {
        Interlocked.Increment(ref requests);
        return inner.FetchFeaturesAsync(nodes, ct);
    }
}
