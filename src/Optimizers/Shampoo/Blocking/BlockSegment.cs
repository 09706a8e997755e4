using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Shampoo.Blocking;

/// <summary>
/// Blocks of one parameter that share a shape. Such blocks tile a regular grid of the parameter's merged shape
/// (along each dim, either its full chunks or its last, shorter one), so one strided view of the parameter,
/// [count₀, count₁, …, chunk₀, chunk₁, …], reaches all of them, and one indexing op gathers or updates them.
/// </summary>
internal sealed class BlockSegment : IDisposable
{
    private readonly long[] merged, starts, counts, chunks;
    /// <summary>Per dim, each block's position along that dim of the grid.</summary>
    private readonly Tensor[] positions;
    /// <summary>The alpha of the updates' adds, held (<see cref="HeldScalars"/>).</summary>
    private readonly Scalar one = 1.0.ToScalar();
    /// <summary>Whether the blocks are the whole grid (in row-major order, as blocks are numbered).</summary>
    private readonly bool wholeGrid;

    /// <param name="blocks">Blocks of one parameter, all of one shape, in block order.</param>
    /// <param name="merged">The parameter's merged shape.</param>
    /// <param name="maxPreconditionerDim">The chunk length the parameter was split by.</param>
    /// <param name="device">Where the parameter lives.</param>
    public BlockSegment(IReadOnlyList<Block> blocks, long[] merged, long maxPreconditionerDim, Device device)
    {
        Blocks = blocks;
        this.merged = merged;
        var first = blocks[0];
        // A chunk of full length belongs to the run of full chunks from 0; a shorter one is the dim's only such chunk.
        starts = first.Range.Select(d => d.Length == maxPreconditionerDim ? 0 : d.Start).ToArray();
        counts = first.Range.Select((d, k) => d.Length == maxPreconditionerDim ? merged[k] / maxPreconditionerDim : 1).ToArray();
        chunks = first.Shape;
        positions = Enumerable.Range(0, merged.Length)
            .Select(k => tensor(blocks.Select(b => (b.Range[k].Start - starts[k]) / chunks[k]).ToArray(), ScalarType.Int64, device).DetachFromDisposeScope())
            .ToArray();
        wholeGrid = blocks.Count == counts.Aggregate(1L, (n, c) => n * c);
    }

    public IReadOnlyList<Block> Blocks { get; }

    public int Parameter => Blocks[0].Parameter;

    public int Count => Blocks.Count;

    /// <summary>The segment's blocks of <paramref name="tensor"/> (a parameter or its gradient), stacked: [count, chunk₀, chunk₁, …].</summary>
    public Tensor Gather(Tensor tensor) => Grid(tensor.reshape(merged)).index(positions);

    /// <summary>Adds <paramref name="values"/> ([count, chunk₀, …]) to the segment's blocks of <paramref name="parameter"/>, in place.</summary>
    public void AddTo(Tensor parameter, Tensor values)
    {
        var grid = Grid(parameter.view(merged));
        if (wholeGrid) grid.add_(values.view([.. counts, .. chunks]), one);
        else grid.index_put_(grid.index(positions).add_(values, one), positions);
    }

    private Tensor Grid(Tensor tensor)
    {
        var interleaved = new long[2 * merged.Length];
        for (int k = 0; k < merged.Length; k++)
        {
            tensor = tensor.narrow(k, starts[k], counts[k] * chunks[k]);
            (interleaved[2 * k], interleaved[2 * k + 1]) = (counts[k], chunks[k]);
        }
        var order = Enumerable.Range(0, merged.Length).Select(k => 2L * k).Concat(Enumerable.Range(0, merged.Length).Select(k => 2L * k + 1)).ToArray();
        return tensor.view(interleaved).permute(order);
    }

    public void Dispose()
    {
        foreach (var position in positions) position.Dispose();
        one.Dispose();
    }
}
