using Dtrain.Collectives.Buffers;

namespace Dtrain.Collectives.Algorithms;

/// <summary>
/// Broadcast and reduce along a binomial tree rooted at any rank: log2(n) rounds, each rank sending or
/// receiving whole buffers. Ranks are renumbered relative to the root (v = rank - root mod n).
/// </summary>
internal static class BinomialTree
{
    public static async Task BroadcastAsync<T>(Communicator comm, MessageHeader header, Memory<T> data, int root, CancellationToken ct)
        where T : unmanaged
    {
        int n = comm.Size, v = Exchange.Mod(comm.Rank - root, n);
        int mask = 1;
        while (mask < n)
        {
            if ((v & mask) != 0)
            {
                await Exchange.ReceiveAsync(comm, Actual(v - mask, root, n), header, data, ct);
                break;
            }
            mask <<= 1;
        }
        for (mask >>= 1; mask > 0; mask >>= 1)
        {
            if (v + mask < n)
            {
                await Exchange.SendAsync(comm, Actual(v + mask, root, n), header, data, ct);
            }
        }
    }

    /// <summary>The reduction lands in <paramref name="data"/> on the root; other ranks' buffers stay unchanged.</summary>
    public static async Task ReduceAsync<T>(Communicator comm, MessageHeader header, Memory<T> data, int root, ReduceOp op, CancellationToken ct)
        where T : unmanaged
    {
        int n = comm.Size, v = Exchange.Mod(comm.Rank - root, n);
        // Non-roots accumulate their subtree in a copy, so the caller's buffer is only ever read.
        T[]? partial = v == 0 ? null : BufferPool<T>.Rent(data.Length);
        T[] received = BufferPool<T>.Rent(data.Length);
        try
        {
            var accumulator = partial is null ? data : partial.AsMemory(0, data.Length);
            if (partial is not null) data.CopyTo(accumulator);
            for (int mask = 1; mask < n; mask <<= 1)
            {
                if ((v & mask) != 0)
                {
                    await Exchange.SendAsync(comm, Actual(v & ~mask, root, n), header, accumulator, ct);
                    break;
                }
                if ((v | mask) < n)
                {
                    var incoming = received.AsMemory(0, data.Length);
                    await Exchange.ReceiveAsync(comm, Actual(v | mask, root, n), header, incoming, ct);
                    Reduction.Combine(op, accumulator.Span, incoming.Span);
                }
            }
            if (v == 0 && op == ReduceOp.Average)
            {
                Reduction.Average(data.Span, n);
            }
        }
        finally
        {
            if (partial is not null) BufferPool<T>.Return(partial);
            BufferPool<T>.Return(received);
        }
    }

    private static int Actual(int relative, int root, int n) => (relative + root) % n;
}
