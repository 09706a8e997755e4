using Dtrain.Contracts.Collectives;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>
/// One worker's connections to its peers: a long-lived client stream to each peer it sends to (opened on first
/// use, shared by every communicator of the process), frames of at most <see cref="GrpcTransportOptions.FrameBytes"/>,
/// and the local <see cref="PeerInbox"/> for what peers send here.
/// </summary>
public sealed class GrpcTransport : IAsyncDisposable
{
    private readonly IReadOnlyList<string> peerAddresses;
    private readonly string jobToken;
    private readonly GrpcTransportOptions options;
    private readonly Outbound?[] outbound;
    private volatile bool aborted;

    /// <param name="epoch">The job's membership epoch these ranks belong to; peers drop messages of epochs they left.</param>
    public GrpcTransport(
        int worldRank, IReadOnlyList<string> peerAddresses, PeerInbox inbox, string jobToken, GrpcTransportOptions? options = null, long epoch = 1)
    {
        WorldRank = worldRank;
        Epoch = epoch;
        this.peerAddresses = peerAddresses;
        Inbox = inbox;
        this.jobToken = jobToken;
        this.options = options ?? new GrpcTransportOptions();
        outbound = new Outbound?[peerAddresses.Count];
    }

    public int WorldRank { get; }

    public long Epoch { get; }

    public int WorldSize => peerAddresses.Count;

    internal PeerInbox Inbox { get; }

    internal async ValueTask SendAsync(int worldPeer, MessageHeader header, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        Outbound link;
        lock (outbound)
        {
            link = outbound[worldPeer] ??= Open(worldPeer);
        }
        await link.Lock.WaitAsync(ct);
        try
        {
            int offset = 0;
            do
            {
                int length = Math.Min(options.FrameBytes, payload.Length - offset);
                var frame = new WireFrame
                {
                    Header = offset == 0 ? ToWire(header, payload.Length) : null,
                    // WriteAsync serialises the frame before it completes, and the caller keeps the buffer
                    // unchanged until this method returns.
                    Outgoing = payload.Slice(offset, length),
                    EndOfMessage = offset + length == payload.Length,
                };
                await link.Call.RequestStream.WriteAsync(frame, ct);
                offset += length;
            }
            while (offset < payload.Length);
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
        {
            throw new PeerLostException(worldPeer, e);
        }
        finally
        {
            link.Lock.Release();
        }
    }

    /// <summary>
    /// Breaks every stream to the peers at once, without waiting for them: the epoch failed, and a peer that hangs
    /// must not hold this worker up. Peers waiting for this rank's messages fail at once with a lost connection.
    /// </summary>
    public void Abort()
    {
        aborted = true;
        lock (outbound)
        {
            foreach (var link in outbound.OfType<Outbound>()) link.Call.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var link in outbound.OfType<Outbound>())
        {
            if (!aborted) await CompleteAsync(link);
            link.Call.Dispose();
            link.Channel.Dispose();
        }
    }

    /// <summary>Ends the stream to a peer and waits (briefly) until the peer has read all of it.</summary>
    private static async Task CompleteAsync(Outbound link)
    {
        try
        {
            await link.Call.RequestStream.CompleteAsync();
            await link.Call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is RpcException or TimeoutException or InvalidOperationException)
        {
            // The peer may already be gone at shutdown; nothing is left to deliver.
        }
    }

    internal static Header ToWire(MessageHeader header, long payloadBytes) => new()
    {
        Context = header.Context,
        Sequence = header.Sequence,
        Op = (int)header.Op,
        DataType = (int)header.DataType,
        Count = header.Count,
        PayloadBytes = payloadBytes,
    };

    internal static MessageHeader FromWire(Header header) =>
        new(header.Context, header.Sequence, (CollectiveOp)header.Op, (DataType)header.DataType, header.Count);

    private Outbound Open(int worldPeer)
    {
        var channel = options.Tls.CreateChannel(peerAddresses[worldPeer], new GrpcChannelOptions
        {
            MaxSendMessageSize = options.FrameBytes + 1024,
        });
        var headers = new Metadata
        {
            { PeerMetadata.SenderRank, WorldRank.ToString() },
            { PeerMetadata.JobToken, jobToken },
            { PeerMetadata.Epoch, Epoch.ToString() },
        };
        return new Outbound(channel, channel.CreateCallInvoker().AsyncClientStreamingCall(PeerWire.Send, null, new CallOptions(headers)));
    }

    private sealed class Outbound(GrpcChannel channel, AsyncClientStreamingCall<WireFrame, SendSummary> call)
    {
        public GrpcChannel Channel { get; } = channel;

        public AsyncClientStreamingCall<WireFrame, SendSummary> Call { get; } = call;

        public SemaphoreSlim Lock { get; } = new(1, 1);
    }
}
