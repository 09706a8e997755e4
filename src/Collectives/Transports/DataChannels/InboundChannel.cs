using Dtrain.Collectives.Buffers;

namespace Dtrain.Collectives.Transports.DataChannels;

/// <summary>
/// What one peer sends this worker over a data channel, sorted by communicator. A pump reads the channel in order;
/// a message whose receive is already waiting goes straight into that receive's buffer, and any other is kept in
/// a pooled array until its receive comes. Receives on one communicator are served in the order they were posted.
/// </summary>
internal sealed class InboundChannel : IAsyncDisposable
{
    private readonly int sender;
    private readonly IInboundLink link;
    private readonly Lock gate = new();
    private readonly Dictionary<long, ContextQueues> byContext = [];
    private readonly Task pump;
    private Exception? ended;

    /// <param name="sender">The sender's world rank, for errors.</param>
    public InboundChannel(int sender, IInboundLink link)
    {
        this.sender = sender;
        this.link = link;
        pump = link.Blocks
            ? Task.Factory.StartNew(PumpAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()
            : Task.Run(PumpAsync);
    }

    /// <summary>Receives the next message on communicator <paramref name="context"/>; <paramref name="verify"/> sees its header first.</summary>
    public async ValueTask ReceiveAsync(long context, Memory<byte> buffer, Action<MessageHeader, long> verify, CancellationToken ct)
    {
        Receive receive;
        lock (gate)
        {
            var queues = Queues(context);
            if (queues.Kept.TryDequeue(out var kept))
            {
                DeliverKept(kept, buffer, verify);
                return;
            }
            if (ended is not null) throw ended;
            receive = new Receive(buffer, verify);
            queues.Waiting.AddLast(receive);
        }
        // A receive the pump has taken is being written into: it ends with the message or the channel.
        await using var cancel = ct.Register(() =>
        {
            lock (gate)
            {
                if (Queues(context).Remove(receive)) receive.Done.TrySetCanceled(ct);
            }
        });
        await receive.Done.Task;
    }

    /// <summary>The call that negotiated the channel ended: see <see cref="IInboundLink.CallEnded"/>.</summary>
    public void CallEnded() => link.CallEnded();

    public async ValueTask DisposeAsync()
    {
        link.Break();
        await pump;
        link.Dispose();
        lock (gate)
        {
            foreach (var kept in byContext.Values.SelectMany(q => q.Kept)) BufferPool<byte>.Return(kept.Payload);
            byContext.Clear();
        }
    }

    private async Task PumpAsync()
    {
        byte[] headerBytes = new byte[ChannelHeader.Size];
        Receive? filling = null;   // taken from its queue, so only the pump can end it
        try
        {
            while (await link.ReadHeaderAsync(headerBytes))
            {
                var (header, payloadBytes) = ChannelHeader.Read(headerBytes, sender);
                lock (gate) filling = Queues(header.Context).TakeWaiting();
                if (filling is not null && Verified(filling, header, payloadBytes))
                {
                    await link.ReadPayloadAsync(filling.Buffer[..(int)payloadBytes]);
                    filling.Done.TrySetResult();
                    filling = null;
                    continue;
                }
                bool refused = filling is not null;   // its receive failed: the message is read and dropped
                filling = null;
                byte[] payload = BufferPool<byte>.Rent((int)payloadBytes);
                await link.ReadPayloadAsync(payload.AsMemory(0, (int)payloadBytes));
                if (refused)
                {
                    BufferPool<byte>.Return(payload);
                    continue;
                }
                lock (gate)
                {
                    var queues = Queues(header.Context);
                    var kept = new Kept(header, payloadBytes, payload);
                    if (queues.TakeWaiting() is { } late) DeliverKept(kept, late);
                    else queues.Kept.Enqueue(kept);
                }
            }
            End(new PeerLostException(sender));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or CollectiveException or OperationCanceledException)
        {
            var error = e as CollectiveException ?? new PeerLostException(sender, e);
            // The sender died in the middle of this receive's message.
            filling?.Done.TrySetException(error);
            End(error);
        }
    }

    /// <summary>No more messages: every receive waiting now, and every later one past those kept, fails with <paramref name="error"/>.</summary>
    private void End(Exception error)
    {
        lock (gate)
        {
            ended = error;
            foreach (var queues in byContext.Values)
            {
                while (queues.TakeWaiting() is { } receive) receive.Done.TrySetException(error);
            }
        }
    }

    private static bool Verified(Receive receive, MessageHeader header, long payloadBytes)
    {
        try
        {
            receive.Verify(header, payloadBytes);
            return true;
        }
        catch (CollectiveException mismatch)
        {
            receive.Done.TrySetException(mismatch);
            return false;
        }
    }

    private static void DeliverKept(Kept kept, Receive receive)
    {
        if (Verified(receive, kept.Header, kept.PayloadBytes))
        {
            kept.Payload.AsSpan(0, (int)kept.PayloadBytes).CopyTo(receive.Buffer.Span);
            receive.Done.TrySetResult();
        }
        BufferPool<byte>.Return(kept.Payload);
    }

    private static void DeliverKept(Kept kept, Memory<byte> buffer, Action<MessageHeader, long> verify)
    {
        try
        {
            verify(kept.Header, kept.PayloadBytes);
            kept.Payload.AsSpan(0, (int)kept.PayloadBytes).CopyTo(buffer.Span);
        }
        finally
        {
            BufferPool<byte>.Return(kept.Payload);
        }
    }

    private ContextQueues Queues(long context)
    {
        if (!byContext.TryGetValue(context, out var queues)) byContext[context] = queues = new ContextQueues();
        return queues;
    }

    private sealed record Receive(Memory<byte> Buffer, Action<MessageHeader, long> Verify)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record Kept(MessageHeader Header, long PayloadBytes, byte[] Payload);

    private sealed class ContextQueues
    {
        public Queue<Kept> Kept { get; } = new();

        public LinkedList<Receive> Waiting { get; } = new();

        public Receive? TakeWaiting()
        {
            if (Waiting.First is not { } first) return null;
            Waiting.RemoveFirst();
            return first.Value;
        }

        public bool Remove(Receive receive) => Waiting.Remove(receive);
    }
}
