using Dtrain.Collectives.Buffers;

namespace Dtrain.Collectives.Algorithms;

/// <summary>
/// The bandwidth-optimal ring: every rank sends to its right neighbour and receives from its left, n-1 steps
/// per phase, and moves (n-1)/n of the buffer per phase. Reduce-scatter leaves block r fully reduced on rank r;
/// all-gather then passes every block around. Each block is reduced on exactly one rank, in an order that
/// depends only on the world size (block b: ranks b+1, b+2, ..., b), and then copied: every rank ends with
/// bitwise identical values. Reduce-scatter may be pipelined: a block travels in segments of the transport's
/// <see cref="Communicator.RingSegmentBytes"/>, and a rank reduces one segment while the next arrives.
/// </summary>
internal static class Ring
{
    public static async Task AllReduceAsync<T>(Communicator comm, MessageHeader header, Memory<T> data, ReduceOp op, CancellationToken ct)
        where T : unmanaged
    {
        var blocks = Partition.Even(data.Length, comm.Size);
        await ReduceScatterAsync(comm, header, data, blocks, op, ct);
        if (op == ReduceOp.Average)
        {
            Reduction.Average(blocks.Block(data, comm.Rank).Span, comm.Size);
        }
        await AllGatherAsync(comm, header, data, blocks, ct);
    }

    /// <summary>In place: afterwards block r of <paramref name="data"/> holds the reduction on rank r (a sum for Average).</summary>
    public static async Task ReduceScatterAsync<T>(
        Communicator comm, MessageHeader header, Memory<T> data, Partition blocks, ReduceOp op, CancellationToken ct)
        where T : unmanaged
    {
        int n = comm.Size, rank = comm.Rank;
        if (n == 1) return;
        int right = (rank + 1) % n, left = (rank + n - 1) % n;
        int segment = comm.RingSegmentBytes > 0 ? Math.Max(1, comm.RingSegmentBytes / DataTypes.SizeOf<T>()) : Math.Max(1, blocks.Largest);
        T[] scratch = BufferPool<T>.Rent(blocks.Largest);
        try
        {
            for (int step = 0; step < n - 1; step++)
            {
                var outgoing = blocks.Block(data, Exchange.Mod(rank - step - 1, n));
                var incoming = blocks.Block(data, Exchange.Mod(rank - step - 2, n));
                var send = SendSegmentsAsync(comm, header, right, outgoing, segment, ct);
                try
                {
                    await ReceiveAndReduceAsync(comm, header, left, incoming, segment, scratch.AsMemory(0, incoming.Length), op, ct);
                }
                finally
                {
                    await send;
                }
            }
        }
        finally
        {
            BufferPool<T>.Return(scratch);
        }
    }

    private static async Task SendSegmentsAsync<T>(Communicator comm, MessageHeader header, int to, Memory<T> block, int segment, CancellationToken ct)
        where T : unmanaged
    {
        foreach (var (offset, length) in Segments(block.Length, segment))
        {
            await Exchange.SendAsync(comm, to, header, block.Slice(offset, length), ct);
        }
    }

    /// <summary>
    /// Posts a receive per segment of <paramref name="into"/> at once, each into its place in <paramref name="scratch"/>
    /// (so the transport can write every segment straight where it belongs), then reduces each as it arrives.
    /// </summary>
    private static async Task ReceiveAndReduceAsync<T>(
        Communicator comm, MessageHeader header, int from, Memory<T> into, int segment, Memory<T> scratch, ReduceOp op, CancellationToken ct)
        where T : unmanaged
    {
        var segments = Segments(into.Length, segment);
        var arriving = segments.Select(s => Exchange.ReceiveAsync(comm, from, header, scratch.Slice(s.Offset, s.Length), ct).AsTask()).ToArray();
        try
        {
            for (int k = 0; k < segments.Length; k++)
            {
                await arriving[k];
                var (offset, length) = segments[k];
                Reduction.Combine(op, into.Slice(offset, length).Span, scratch.Slice(offset, length).Span);
            }
        }
        finally
        {
            // A failed segment must not leave later receives writing into scratch that goes back to the pool.
            await Task.WhenAll(arriving).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>A block's segments: (offset, length) pairs; an empty block is one empty segment, so both sides exchange one message.</summary>
    private static (int Offset, int Length)[] Segments(int length, int segment) =>
        Enumerable.Range(0, Math.Max(1, (length + segment - 1) / segment))
            .Select(k => (k * segment, Math.Min(segment, length - k * segment)))
            .ToArray();

    /// <summary>In place: rank r contributes block r of <paramref name="data"/>; afterwards every rank has all blocks.</summary>
    public static async Task AllGatherAsync<T>(Communicator comm, MessageHeader header, Memory<T> data, Partition blocks, CancellationToken ct)
        where T : unmanaged
    {
        int n = comm.Size, rank = comm.Rank;
        int right = (rank + 1) % n, left = (rank + n - 1) % n;
        for (int step = 0; step < n - 1; step++)
        {
            var outgoing = blocks.Block(data, Exchange.Mod(rank - step, n));
            var incoming = blocks.Block(data, Exchange.Mod(rank - step - 1, n));
            await Exchange.SendReceiveAsync(comm, header, right, outgoing, left, incoming, ct);
        }
    }
}
