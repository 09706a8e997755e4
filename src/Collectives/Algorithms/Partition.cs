namespace Dtrain.Collectives.Algorithms;

/// <summary>Where each rank's block starts in a buffer split among the ranks of a group.</summary>
internal sealed class Partition
{
    private readonly long[] offsets;

    private Partition(long[] offsets) => this.offsets = offsets;

    public int Count => offsets.Length - 1;

    /// <summary>Blocks whose sizes differ by at most one element, so any length splits (0 too).</summary>
    public static Partition Even(int length, int parts) =>
        new(Enumerable.Range(0, parts + 1).Select(i => (long)length * i / parts).ToArray());

    public static Partition FromCounts(IReadOnlyList<int> counts)
    {
        var offsets = new long[counts.Count + 1];
        for (int i = 0; i < counts.Count; i++) offsets[i + 1] = offsets[i] + counts[i];
        return new Partition(offsets);
    }

    public int Start(int block) => (int)offsets[block];

    public int Length(int block) => (int)(offsets[block + 1] - offsets[block]);

    public int Largest => Enumerable.Range(0, Count).Max(Length);

    public Memory<T> Block<T>(Memory<T> data, int block) => data.Slice(Start(block), Length(block));
}
