using System.Diagnostics;
using Dtrain.Telemetry;
using Dtrain.TensorParallel.Grid;
using static TorchSharp.torch;

namespace Dtrain.TensorParallel.Matmul;

/// <summary>
/// One run of a matmul algorithm on one rank: owns the blocks it allocates, counts the bytes of blocks it holds
/// (for the peak) and the bytes it sends, and publishes both when it finishes.
/// </summary>
internal sealed class MatmulRun : IDisposable
{
    private readonly ProcessGrid grid;
    private readonly string algorithm;
    private readonly long bytesSentBefore, started = Stopwatch.GetTimestamp();
    private readonly List<Tensor> owned = [];
    private long held, peak;

    public MatmulRun(ProcessGrid grid, string algorithm)
    {
        (this.grid, this.algorithm) = (grid, algorithm);
        bytesSentBefore = grid.BytesSent;
    }

    /// <summary>
    /// The caller's block, counted as held for the whole run, as a view without autograd history (the
    /// algorithms compute values; CannonLinear differentiates through them). The view shares the block's memory.
    /// </summary>
    public Tensor Input(Tensor block)
    {
        Hold(block);
        var values = block.detach();
        owned.Add(values);
        return values;
    }

    /// <summary>A block of zeros of the input's type and device, owned by this run.</summary>
    public Tensor Allocate(long[] shape, Tensor like)
    {
        var block = zeros(shape, like.dtype, like.device);
        Hold(block);
        owned.Add(block);
        return block;
    }

    /// <summary>Disposes an allocated block before the run ends.</summary>
    public void Free(Tensor block)
    {
        owned.Remove(block);
        held -= Bytes(block);
        block.Dispose();
    }

    /// <summary>Hands <paramref name="product"/> to the caller and publishes this run's counters.</summary>
    public MatmulResult Finish(Tensor product, BlockLayout layout)
    {
        owned.Remove(product);
        var stats = new MatmulStats(algorithm, grid.BytesSent - bytesSentBefore, peak, Stopwatch.GetElapsedTime(started));
        DtrainMetrics.MatmulSentBytes.WithLabels(algorithm).Inc(stats.BytesSent);
        DtrainMetrics.MatmulPeakBytes.WithLabels(algorithm).Set(stats.PeakBytes);
        return new MatmulResult(new BlockMatrix(product, layout.Rows, layout.Cols), stats);
    }

    public void Dispose()
    {
        foreach (var block in owned) block.Dispose();
        owned.Clear();
    }

    private void Hold(Tensor block)
    {
        held += Bytes(block);
        peak = Math.Max(peak, held);
    }

    private static long Bytes(Tensor block) => block.numel() * block.element_size();
}
