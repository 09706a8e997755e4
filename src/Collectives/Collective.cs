using System.Diagnostics;
using Dtrain.Collectives.Algorithms;
using Dtrain.Collectives.Buffers;
using Dtrain.Telemetry;

namespace Dtrain.Collectives;

/// <summary>
/// The operations a training program calls, named and shaped as in torch.distributed. Every rank of the group
/// must call the same operations in the same order with the same sizes; a rank that does not gets a
/// <see cref="CollectiveMismatchException"/>. Each call is timed and counted in the dtrain_collective_* metrics.
/// </summary>
public static class Collective
{
    /// <summary>Reduces <paramref name="data"/> element-wise across all ranks, in place. Ring for large buffers, recursive doubling for small.</summary>
    public static Task AllReduceAsync<T>(this Communicator comm, Memory<T> data, ReduceOp op = ReduceOp.Sum, CancellationToken ct = default)
        where T : unmanaged
    {
        Reduction.Validate<T>(op);
        var header = comm.BeginCollective(CollectiveOp.AllReduce, DataTypes.Of<T>(), data.Length);
        var algorithm = comm.Options.AllReduceAlgorithm ??
            (data.Length * DataTypes.SizeOf<T>() < comm.Options.SmallMessageBytes ? AllReduceAlgorithm.RecursiveDoubling : AllReduceAlgorithm.Ring);
        return Measured(comm, header, data.Length * DataTypes.SizeOf<T>(), () => algorithm switch
        {
            AllReduceAlgorithm.Ring => Ring.AllReduceAsync(comm, header, data, op, ct),
            AllReduceAlgorithm.RecursiveDoubling => RecursiveDoubling.AllReduceAsync(comm, header, data, op, ct),
            _ => comm.TransportAllReduceAsync(data, op, ct)
                ?? throw new NotSupportedException($"the {comm.Transport} transport has no all-reduce of its own"),
        });
    }

    /// <summary>Every rank's <paramref name="input"/>, concatenated in rank order into <paramref name="output"/> (Size × input length).</summary>
    public static Task AllGatherAsync<T>(this Communicator comm, ReadOnlyMemory<T> input, Memory<T> output, CancellationToken ct = default)
        where T : unmanaged =>
        comm.AllGatherAsync(input, output, Enumerable.Repeat(input.Length, comm.Size).ToArray(), ct);

    /// <summary>All-gather of blocks of different sizes: rank r contributes <paramref name="counts"/>[r] elements.</summary>
    public static Task AllGatherAsync<T>(
        this Communicator comm, ReadOnlyMemory<T> input, Memory<T> output, IReadOnlyList<int> counts, CancellationToken ct = default)
        where T : unmanaged
    {
        var blocks = Partition.FromCounts(counts);
        if (counts.Count != comm.Size || input.Length != counts[comm.Rank] || output.Length != blocks.Start(comm.Size))
        {
            throw new ArgumentException(
                $"all_gather on rank {comm.Rank} of {comm.Size}: {counts.Count} counts, input of {input.Length}, output of {output.Length} elements do not fit");
        }
        var header = comm.BeginCollective(CollectiveOp.AllGather, DataTypes.Of<T>(), output.Length);
        input.CopyTo(blocks.Block(output, comm.Rank));
        return Measured(comm, header, output.Length * DataTypes.SizeOf<T>(), () => Ring.AllGatherAsync(comm, header, output, blocks, ct));
    }

    /// <summary>Reduces <paramref name="input"/> (Size × output length) across ranks; rank r receives block r in <paramref name="output"/>.</summary>
    public static Task ReduceScatterAsync<T>(
        this Communicator comm, ReadOnlyMemory<T> input, Memory<T> output, ReduceOp op = ReduceOp.Sum, CancellationToken ct = default)
        where T : unmanaged
    {
        Reduction.Validate<T>(op);
        if (input.Length != output.Length * comm.Size)
        {
            throw new ArgumentException(
                $"reduce_scatter on {comm.Size} ranks needs an input of {comm.Size} x {output.Length} elements, got {input.Length}");
        }
        var header = comm.BeginCollective(CollectiveOp.ReduceScatter, DataTypes.Of<T>(), input.Length);
        return Measured(comm, header, input.Length * DataTypes.SizeOf<T>(), () => ReduceScatterAsync(comm, header, input, output, op, ct));
    }

    /// <summary>Copies <paramref name="data"/> from <paramref name="root"/> to every rank.</summary>
    public static Task BroadcastAsync<T>(this Communicator comm, Memory<T> data, int root = 0, CancellationToken ct = default)
        where T : unmanaged
    {
        CheckRoot(comm, root);
        var header = comm.BeginCollective(CollectiveOp.Broadcast, DataTypes.Of<T>(), data.Length);
        return Measured(comm, header, data.Length * DataTypes.SizeOf<T>(), () => BinomialTree.BroadcastAsync(comm, header, data, root, ct));
    }

    /// <summary>Reduces <paramref name="data"/> across ranks into <paramref name="data"/> on <paramref name="root"/>; other ranks' buffers are unchanged.</summary>
    public static Task ReduceAsync<T>(
        this Communicator comm, Memory<T> data, int root = 0, ReduceOp op = ReduceOp.Sum, CancellationToken ct = default)
        where T : unmanaged
    {
        Reduction.Validate<T>(op);
        CheckRoot(comm, root);
        var header = comm.BeginCollective(CollectiveOp.Reduce, DataTypes.Of<T>(), data.Length);
        return Measured(comm, header, data.Length * DataTypes.SizeOf<T>(), () => BinomialTree.ReduceAsync(comm, header, data, root, op, ct));
    }

    /// <summary>Returns once every rank of the group has called it.</summary>
    public static Task BarrierAsync(this Communicator comm, CancellationToken ct = default)
    {
        var header = comm.BeginCollective(CollectiveOp.Barrier, DataType.Byte, 0);
        return Measured(comm, header, 0, () => Dissemination.BarrierAsync(comm, header, ct));
    }

    /// <summary>Sends <paramref name="data"/> to <paramref name="peer"/>, which must receive it with a buffer of the same size and type.</summary>
    public static async Task SendAsync<T>(this Communicator comm, int peer, ReadOnlyMemory<T> data, CancellationToken ct = default)
        where T : unmanaged
    {
        var header = comm.NextSentTo(peer, DataTypes.Of<T>(), data.Length);
        await comm.SendAsync(peer, header, System.Runtime.InteropServices.MemoryMarshal.AsMemory(data).AsBytes(), ct);
    }

    public static async Task ReceiveAsync<T>(this Communicator comm, int peer, Memory<T> data, CancellationToken ct = default)
        where T : unmanaged
    {
        var header = comm.NextReceivedFrom(peer, DataTypes.Of<T>(), data.Length);
        await comm.ReceiveAsync(peer, header, data.AsBytes(), ct);
    }

    private static async Task ReduceScatterAsync<T>(
        Communicator comm, MessageHeader header, ReadOnlyMemory<T> input, Memory<T> output, ReduceOp op, CancellationToken ct)
        where T : unmanaged
    {
        // The ring works in place; the caller's input stays untouched.
        T[] work = BufferPool<T>.Rent(input.Length);
        try
        {
            var data = work.AsMemory(0, input.Length);
            input.CopyTo(data);
            var blocks = Partition.Even(input.Length, comm.Size);
            await Ring.ReduceScatterAsync(comm, header, data, blocks, op, ct);
            var mine = blocks.Block(data, comm.Rank);
            if (op == ReduceOp.Average) Reduction.Average(mine.Span, comm.Size);
            mine.CopyTo(output);
        }
        finally
        {
            BufferPool<T>.Return(work);
        }
    }

    private static async Task Measured(Communicator comm, MessageHeader header, long bytes, Func<Task> operation)
    {
        long started = Stopwatch.GetTimestamp();
        await operation();
        string op = header.Op.Name();
        DtrainMetrics.CollectiveDuration.WithLabels(op, comm.Transport).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        DtrainMetrics.CollectiveBytes.WithLabels(op, comm.Transport).Inc(bytes);
    }

    private static void CheckRoot(Communicator comm, int root)
    {
        if (root < 0 || root >= comm.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(root), $"root {root} is not a rank of a group of {comm.Size}");
        }
    }
}
