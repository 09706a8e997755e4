namespace Dtrain.Optimizers.Shampoo.Blocking;

/// <summary>One preconditioner block: its number over all parameters, its parameter's number, and where it lies in that parameter's merged shape.</summary>
internal sealed record Block(int Index, int Parameter, (long Start, long Length)[] Range)
{
    public long[] Shape { get; } = Range.Select(d => d.Length).ToArray();

    public long Elements => Shape.Aggregate(1L, (n, d) => n * d);
}
