using System.Collections.Concurrent;
using System.Threading.Channels;
using Dtrain.Contracts.Collectives;
using Dtrain.Contracts.Jobs;

namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>
/// The receiving side of the gRPC transport: frames that peers streamed to this worker, queued per (sender
/// world rank, communicator context) until a communicator asks for the next message. It exists before the
/// worker knows its rank, because the worker's endpoint must be listening before it joins the job.
/// </summary>
public sealed class PeerInbox(string jobToken)
{
    private readonly ConcurrentDictionary<(int Sender, long Context), Channel<WireFrame>> queues = new();
    private readonly ConcurrentDictionary<int, Exception?> closedSenders = new();

    /// <summary>Whether a caller presented this job's token; compared in constant time.</summary>
    public bool Admits(string? presentedToken) => JobToken.Matches(jobToken, presentedToken);

    internal void Deliver(int sender, long context, WireFrame frame)
    {
        // The queues are unbounded: writing never waits, and fails only once the sender's queue was closed.
        if (!Queue(sender, context).Writer.TryWrite(frame)) frame.Release();
    }

    /// <summary>The sender's stream ended: every queue from it ends too, with the error if it broke.</summary>
    internal void Close(int sender, Exception? error)
    {
        closedSenders[sender] = error;
        foreach (var ((from, _), queue) in queues)
        {
            if (from == sender) Complete(queue, sender, error);
        }
    }

    /// <summary>Reads the next message from <paramref name="sender"/>; <paramref name="verify"/> sees its header first.</summary>
    internal async ValueTask ReceiveAsync(
        int sender, long context, Memory<byte> buffer, Action<Header> verify, CancellationToken ct)
    {
        var queue = Queue(sender, context);
        var first = await ReadAsync(queue, sender, ct);
        if (first.Header is null)
        {
            first.Release();
            throw new CollectiveException($"rank {sender} sent a message without a header");
        }
        try
        {
            verify(first.Header);
        }
        catch
        {
            first.Release();
            throw;
        }
        int offset = 0;
        for (var frame = first; ; frame = await ReadAsync(queue, sender, ct))
        {
            try
            {
                if (offset + frame.Length > buffer.Length)
                {
                    throw new CollectiveException($"rank {sender} sent more bytes than its header announced");
                }
                frame.Pooled.AsSpan(0, frame.Length).CopyTo(buffer.Span[offset..]);
                offset += frame.Length;
            }
            finally
            {
                frame.Release();
            }
            if (frame.EndOfMessage) break;
        }
    }

    private Channel<WireFrame> Queue(int sender, long context) => queues.GetOrAdd((sender, context), _ =>
    {
        var queue = Channel.CreateUnbounded<WireFrame>(new() { SingleReader = true, SingleWriter = true });
        // A queue first asked for after its sender left must not wait forever.
        if (closedSenders.TryGetValue(sender, out var error)) Complete(queue, sender, error);
        return queue;
    });

    private static void Complete(Channel<WireFrame> queue, int sender, Exception? error) =>
        queue.Writer.TryComplete(new PeerLostException(sender, error));

    private static async ValueTask<WireFrame> ReadAsync(Channel<WireFrame> queue, int sender, CancellationToken ct)
    {
        try
        {
            return await queue.Reader.ReadAsync(ct);
        }
        catch (ChannelClosedException closed)
        {
            throw closed.InnerException as PeerLostException ?? new PeerLostException(sender, closed);
        }
    }
}
