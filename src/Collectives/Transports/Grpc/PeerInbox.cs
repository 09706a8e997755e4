using System.Collections.Concurrent;
using System.Threading.Channels;
using Dtrain.Contracts.Collectives;
using Dtrain.Contracts.Jobs;

namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>
/// The receiving side of the gRPC transport: frames that peers streamed to this worker, queued per sender rank
/// until the local communicator asks for the next message. It exists before the worker knows its rank, because
/// the worker's endpoint must be listening before it joins the job.
/// </summary>
public sealed class PeerInbox(string jobToken)
{
    private readonly ConcurrentDictionary<int, Sender> senders = new();

    /// <summary>Whether a caller presented this job's token; compared in constant time.</summary>
    public bool Admits(string? presentedToken) => JobToken.Matches(jobToken, presentedToken);

    internal ValueTask DeliverAsync(int fromRank, Frame frame, CancellationToken ct) =>
        SenderOf(fromRank).Frames.Writer.WriteAsync(frame, ct);

    /// <summary>The sender's stream ended; a broken stream means the peer is gone.</summary>
    internal void Close(int fromRank, Exception? error) =>
        SenderOf(fromRank).Frames.Writer.TryComplete(error is null ? null : new PeerLostException(fromRank, error));

    internal async ValueTask ReceiveAsync(int fromRank, Memory<byte> buffer, CancellationToken ct)
    {
        var sender = SenderOf(fromRank);
        long expectedSequence = sender.NextSequence++;
        int offset = 0;
        while (true)
        {
            Frame frame;
            try
            {
                frame = await sender.Frames.Reader.ReadAsync(ct);
            }
            catch (ChannelClosedException closed)
            {
                throw closed.InnerException as PeerLostException ?? new PeerLostException(fromRank, closed);
            }
            if (frame.Sequence != expectedSequence)
            {
                throw new CollectiveException(
                    $"rank {fromRank} sent message {frame.Sequence} where message {expectedSequence} was expected");
            }
            int length = frame.Payload.Length;
            if (offset + length > buffer.Length)
            {
                throw new CollectiveException(
                    $"rank {fromRank} sent more than the {buffer.Length} bytes expected for message {expectedSequence}");
            }
            frame.Payload.Span.CopyTo(buffer.Span[offset..]);
            offset += length;
            if (frame.EndOfMessage)
            {
                break;
            }
        }
        if (offset != buffer.Length)
        {
            throw new CollectiveException(
                $"rank {fromRank} sent {offset} bytes where {buffer.Length} were expected for message {expectedSequence}");
        }
    }

    private Sender SenderOf(int rank) => senders.GetOrAdd(rank, _ => new Sender());

    private sealed class Sender
    {
        public Channel<Frame> Frames { get; } = Channel.CreateUnbounded<Frame>(new() { SingleReader = true });

        public long NextSequence { get; set; }
    }
}
