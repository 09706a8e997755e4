using System.Buffers;
using System.Numerics.Tensors;
using Dtrain.Collectives.Buffers;

namespace Dtrain.Collectives.Algorithms;

/// <summary>
/// Bandwidth-optimal ring all-reduce: a reduce-scatter of n-1 steps followed by an all-gather of n-1 steps, each
/// rank sending to its right neighbour and receiving from its left. Every rank sends 2(n-1)/n of the buffer.
/// The buffer is cut into n chunks whose sizes differ by at most one element, so any length works (0 too).
/// Each chunk is fully reduced on exactly one rank and then copied to the others, so every rank ends with
/// bitwise identical values, and the summation order depends only on the world size.
/// </summary>
public static class RingAllReduce
{
    public static async Task RunAsync(ICommunicator comm, Memory<float> data, ReduceOp op, CancellationToken ct)
    {
        int n = comm.Size, rank = comm.Rank;
        if (n == 1)
        {
            return;
        }
        int right = (rank + 1) % n, left = (rank + n - 1) % n;
        int maxChunk = (data.Length + n - 1) / n;
        float[] scratch = ArrayPool<float>.Shared.Rent(maxChunk);
        try
        {
            // Reduce-scatter: after step s, the chunk received has s+2 contributions.
            for (int step = 0; step < n - 1; step++)
            {
                var outgoing = Chunk(data, Mod(rank - step, n), n);
                var incoming = Chunk(data, Mod(rank - step - 1, n), n);
                var received = scratch.AsMemory(0, incoming.Length);
                await ExchangeAsync(comm, right, outgoing, left, received, ct);
                TensorPrimitives.Add(incoming.Span, received.Span, incoming.Span);
            }

            // The chunk this rank reduced completely; averaging it here keeps every rank's result identical.
            var owned = Chunk(data, (rank + 1) % n, n);
            if (op == ReduceOp.Average)
            {
                TensorPrimitives.Divide(owned.Span, n, owned.Span);
            }

            // All-gather: pass the reduced chunks around the ring.
            for (int step = 0; step < n - 1; step++)
            {
                var outgoing = Chunk(data, Mod(rank + 1 - step, n), n);
                var incoming = Chunk(data, Mod(rank - step, n), n);
                await ExchangeAsync(comm, right, outgoing, left, incoming, ct);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>Sends and receives at once: a ring where every rank first sends and then receives could stall.</summary>
    private static async Task ExchangeAsync(
        ICommunicator comm, int to, Memory<float> outgoing, int from, Memory<float> incoming, CancellationToken ct)
    {
        var send = comm.SendAsync(to, outgoing.AsBytes(), ct).AsTask();
        try
        {
            await comm.ReceiveAsync(from, incoming.AsBytes(), ct);
        }
        finally
        {
            await send;
        }
    }

    private static Memory<float> Chunk(Memory<float> data, int index, int count)
    {
        int start = (int)((long)data.Length * index / count);
        int end = (int)((long)data.Length * (index + 1) / count);
        return data[start..end];
    }

    private static int Mod(int value, int modulus) => ((value % modulus) + modulus) % modulus;
}
