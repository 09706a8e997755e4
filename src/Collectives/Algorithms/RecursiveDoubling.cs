using Dtrain.Collectives.Buffers;

namespace Dtrain.Collectives.Algorithms;

/// <summary>
/// Latency-optimal all-reduce for small messages: log2(p) steps in which partners (rank XOR 2^k) swap their
/// whole buffers and both combine them. Partners combine the same two values, and the operations are
/// commutative, so every rank ends bitwise identical. With p the largest power of two not above n, the n - p
/// extra ranks first fold their data into ranks 0..n-p-1 and get the result back at the end.
/// </summary>
internal static class RecursiveDoubling
{
    public static async Task AllReduceAsync<T>(Communicator comm, MessageHeader header, Memory<T> data, ReduceOp op, CancellationToken ct)
        where T : unmanaged
    {
        int n = comm.Size, rank = comm.Rank;
        if (n == 1) return;
        int p = 1 << (31 - int.LeadingZeroCount(n)), extras = n - p;
        T[] scratch = BufferPool<T>.Rent(data.Length);
        try
        {
            var received = scratch.AsMemory(0, data.Length);
            if (rank >= p)
            {
                await Exchange.SendAsync(comm, rank - p, header, data, ct);
                await Exchange.ReceiveAsync(comm, rank - p, header, data, ct);
                return;
            }
            if (rank < extras)
            {
                await Exchange.ReceiveAsync(comm, rank + p, header, received, ct);
                Reduction.Combine(op, data.Span, received.Span);
            }
            for (int mask = 1; mask < p; mask <<= 1)
            {
                int partner = rank ^ mask;
                await Exchange.SendReceiveAsync(comm, header, partner, data, partner, received, ct);
                Reduction.Combine(op, data.Span, received.Span);
            }
            if (op == ReduceOp.Average)
            {
                Reduction.Average(data.Span, n);
            }
            if (rank < extras)
            {
                await Exchange.SendAsync(comm, rank + p, header, data, ct);
            }
        }
        finally
        {
            BufferPool<T>.Return(scratch);
        }
    }
}
