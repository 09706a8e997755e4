using Dtrain.Collectives;
using Dtrain.Collectives.Tensors;
using static TorchSharp.torch;

namespace Dtrain.TensorParallel.Matmul;

/// <summary>One operand's block and the buffer its next block arrives in (double buffering), both of one shape.</summary>
internal readonly record struct ShiftPair(Tensor Current, Tensor Spare)
{
    /// <summary>
    /// Moves the blocks along <paramref name="ring"/> by <paramref name="by"/> positions toward lower ranks: this
    /// rank sends <see cref="Current"/> to rank - by and receives the block of rank + by into <see cref="Spare"/>,
    /// which becomes the current block. Nothing moves when <paramref name="by"/> is a multiple of the ring's size.
    /// </summary>
    public async Task<ShiftPair> ShiftAsync(Communicator ring, int by, CancellationToken ct)
    {
        int n = ring.Size, steps = ((by % n) + n) % n;
        if (steps == 0)
        {
            return this;
        }
        // Both at once: over MPI a large send completes only once the peer's receive is posted.
        await Task.WhenAll(
            ring.SendAsync((ring.Rank - steps + n) % n, Current, ct),
            ring.ReceiveAsync((ring.Rank + steps) % n, Spare, ct));
        return new ShiftPair(Spare, Current);
    }
}
