namespace Dtrain.Graph.Sampling;

/// <summary>
/// One hop's sampled in-neighbours laid out as in <see cref="SampledNeighbours"/> (Counts[i] neighbours of
/// destination i, concatenated in destination order), but in arrays that are kept and only ever grown: a sampler
/// reuses one of these for every hop of every batch.
/// </summary>
internal sealed class DrawnNeighbours
{
    private int[] counts = [];
    private int[] neighbours = [];

    public int DestinationCount { get; private set; }

    public int NeighbourCount { get; private set; }

    public Span<int> Counts => counts.AsSpan(0, DestinationCount);

    public Span<int> Neighbours => neighbours.AsSpan(0, NeighbourCount);

    /// <summary>Starts a hop of <paramref name="destinations"/>; the caller writes their counts, then calls <see cref="SetNeighbourCount"/>.</summary>
    public void Reset(int destinations)
    {
        counts = ReusedArray.AtLeast(counts, destinations);
        (DestinationCount, NeighbourCount) = (destinations, 0);
    }

    public void SetNeighbourCount(int total)
    {
        neighbours = ReusedArray.AtLeast(neighbours, total);
        NeighbourCount = total;
    }

    public SampledNeighbours ToSampledNeighbours() => new(Counts.ToArray(), Neighbours.ToArray());
}
