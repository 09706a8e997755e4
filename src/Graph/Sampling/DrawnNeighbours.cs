namespace Dtrain.Graph.Sampling;

/// <summary>
/// One hop's sampled in-neighbours laid out as in <see cref="SampledNeighbours"/>: Counts[i] neighbours of
/// destination i, concatenated in destination order. The counts are in a buffer that a sampler reuses for every hop
/// of every batch; the neighbours get a new array of exactly their number, because relabelling turns it, in place,
/// into the block's edge sources.
/// </summary>
internal sealed class DrawnNeighbours
{
    private int[] counts = [];

    public int DestinationCount { get; private set; }

    public Span<int> Counts => counts.AsSpan(0, DestinationCount);

    public int[] Neighbours { get; private set; } = [];

    /// <summary>Starts a hop of <paramref name="destinations"/>; the caller writes their counts, then calls <see cref="SetNeighbourCount"/>.</summary>
    public void Reset(int destinations)
    {
        counts = ReusedArray.AtLeast(counts, destinations);
        (DestinationCount, Neighbours) = (destinations, []);
    }

    public void SetNeighbourCount(int total) => Neighbours = GC.AllocateUninitializedArray<int>(total);

    public SampledNeighbours ToSampledNeighbours() => new(Counts.ToArray(), Neighbours);
}
