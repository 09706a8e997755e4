using System.Collections.Concurrent;

namespace Dtrain.Collectives.Transports.DataChannels;

/// <summary>
/// The sending end of a shared-memory channel. Writing into the ring blocks while it is full, so such writes run
/// on a thread of their own: the rank's async code goes on (to post its receives) while its message flows. A
/// message that fits in the ring's free room is written at once, without the hop to that thread (latency).
/// </summary>
internal sealed class SharedMemoryOutboundLink : IOutboundLink
{
    private readonly SharedMemoryRing ring;
    private readonly BlockingCollection<Write> writes = new();
    private readonly Thread writer;

    public SharedMemoryOutboundLink(SharedMemoryRing ring)
    {
        this.ring = ring;
        writer = new Thread(WriteAll) { IsBackground = true, Name = "dtrain shm writer" };
        writer.Start();
    }

    /// <remarks>Writes come one at a time (<see cref="OutboundChannel"/>), so the writer thread is idle when one fits.</remarks>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        if (ring.Free >= header.Length + payload.Length)
        {
            ring.Write(header.Span);
            ring.Write(payload.Span);
            return ValueTask.CompletedTask;
        }
        var write = new Write(header, payload, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        writes.Add(write, ct);
        return new ValueTask(write.Done.Task);
    }

    public void Complete()
    {
        writes.CompleteAdding();
        writer.Join();
        ring.Complete();
    }

    public void Break() => ring.Break();

    public void Dispose()
    {
        writes.CompleteAdding();
        writer.Join();
        ring.Dispose();
        writes.Dispose();
    }

    private void WriteAll()
    {
        foreach (var write in writes.GetConsumingEnumerable())
        {
            try
            {
                ring.Write(write.Header.Span);
                ring.Write(write.Payload.Span);
                write.Done.SetResult();
            }
            catch (IOException broken)
            {
                write.Done.SetException(broken);
            }
        }
    }

    private sealed record Write(ReadOnlyMemory<byte> Header, ReadOnlyMemory<byte> Payload, TaskCompletionSource Done);
}

/// <summary>
/// The receiving end of a shared-memory channel. Its reads block; <see cref="InboundChannel"/> runs its pump on a
/// thread of its own for them.
/// </summary>
internal sealed class SharedMemoryInboundLink(SharedMemoryRing ring) : IInboundLink
{
    public bool Blocks => true;

    public ValueTask<bool> ReadHeaderAsync(Memory<byte> header) => ValueTask.FromResult(ring.Read(header.Span));

    public ValueTask ReadPayloadAsync(Memory<byte> payload)
    {
        if (!ring.Read(payload.Span) && !payload.IsEmpty)
        {
            throw new EndOfStreamException("the sender completed the channel after a header, without its payload");
        }
        return ValueTask.CompletedTask;
    }

    public void Break() => ring.Break();

    public void CallEnded()
    {
        if (!ring.IsCompleted) ring.Break();
    }

    public void Dispose() => ring.Dispose();
}
