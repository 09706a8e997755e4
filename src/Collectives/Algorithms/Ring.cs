using Dtrain.Collectives.Buffers;

namespace Dtrain.Collectives.Algorithms;

/// <summary>
/// The bandwidth-optimal ring: every rank sends to its right neighbour and receives from its left, n-1 steps
/// per phase, and moves (n-1)/n of the buffer per phase. Reduce-scatter leaves block r fully reduced on rank r;
/// all-gather then passes every block around. Each block is reduced on exactly one rank, in an order that
/// depends only on the world size (block b: ranks b+1, b+2, ..., b), and then copied: every rank ends with
/// bitwise identical values.
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
        T[] scratch = BufferPool<T>.Rent(blocks.Largest);
        try
        {
            for (int step = 0; step < n - 1; step++)
            {
                var outgoing = blocks.Block(data, Exchange.Mod(rank - step - 1, n));
                var incoming = blocks.Block(data, Exchange.Mod(rank - step - 2, n));
                var received = scratch.AsMemory(0, incoming.Length);
                await Exchange.SendReceiveAsync(comm, header, right, outgoing, left, received, ct);
                Reduction.Combine(op, incoming.Span, received.Span);
            }
        }
        finally
        {
            BufferPool<T>.Return(scratch);
        }
    }

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
