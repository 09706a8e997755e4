using Dtrain.Collectives.Transports.DataChannels;
using Dtrain.Contracts.Collectives;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>
/// One worker's connections to its peers in one membership epoch. Peers meet over gRPC (the Peer service, with
/// the job's token); bulk bytes then take the data channel the options ask for (<see cref="DataChannel"/>):
/// shared memory or plain TCP, negotiated per peer on first use, or the gRPC streams themselves, a long-lived
/// client stream to each peer in frames of at most <see cref="GrpcTransportOptions.FrameBytes"/>. What peers
/// send here lands in the local <see cref="PeerInbox"/>.
/// </summary>
public sealed class GrpcTransport : IAsyncDisposable
{
    private readonly IReadOnlyList<string> peerAddresses;
    private readonly string jobToken;
    private readonly GrpcTransportOptions options;
    private readonly Peer?[] peers;
    private readonly Task[] receivesPosted;
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
        peers = new Peer?[peerAddresses.Count];
        receivesPosted = Enumerable.Repeat(Task.CompletedTask, peerAddresses.Count).ToArray();
        inbox.Enter(epoch, peerAddresses.Count);
    }

    public int WorldRank { get; }

    public long Epoch { get; }

    public int WorldSize => peerAddresses.Count;

    internal PeerInbox Inbox { get; }

    /// <summary>The data channel each peer's messages take from here, once negotiated (null: not yet).</summary>
    public DataChannel? ChannelTo(int worldPeer)
    {
        var opened = Link(worldPeer).Opened;
        return opened is { IsCompletedSuccessfully: true } ? opened.Result?.Kind ?? DataChannel.Http2 : null;
    }

    internal async ValueTask SendAsync(int worldPeer, MessageHeader header, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var peer = Link(worldPeer);
        try
        {
            var channel = options.DataChannel == DataChannel.Http2 ? null : await peer.OpenAsync(() => OpenChannelAsync(worldPeer, peer));
            if (channel is null) await SendFramesAsync(peer, header, payload, ct);
            else await channel.SendAsync(header, payload, ct);
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            throw new PeerLostException(worldPeer, e);
        }
    }

    /// <summary>
    /// Reads the next message from <paramref name="worldPeer"/> on communicator <paramref name="context"/>. Receives
    /// from one peer may be posted before earlier ones completed (a pipelined ring posts a block's segments at once):
    /// on a data channel they take their places in the order they were posted, also while the channel is still
    /// opening; on the gRPC streams, which deliver one message at a time, each waits for the one before.
    /// </summary>
    internal ValueTask ReceiveAsync(int worldPeer, long context, Memory<byte> buffer, Action<MessageHeader, long> verify, CancellationToken ct)
    {
        var posted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task previous;
        lock (receivesPosted)
        {
            previous = receivesPosted[worldPeer];
            receivesPosted[worldPeer] = posted.Task;
        }
        return ReceiveInTurnAsync(previous, posted, worldPeer, context, buffer, verify, ct);
    }

    private async ValueTask ReceiveInTurnAsync(
        Task previous, TaskCompletionSource posted, int worldPeer, long context, Memory<byte> buffer, Action<MessageHeader, long> verify, CancellationToken ct)
    {
        ValueTask receiving;
        try
        {
            await previous;
            var channel = options.DataChannel == DataChannel.Http2 ? null : await Inbox.Channels.FromAsync(Epoch, worldPeer, ct);
            if (channel is null)
            {
                await Inbox.ReceiveAsync(Epoch, worldPeer, context, buffer, verify, ct);
                return;
            }
            // Posted synchronously: the channel queues it before the next receive can take its turn.
            receiving = channel.ReceiveAsync(context, buffer, verify, ct);
        }
        finally
        {
            posted.SetResult();
        }
        await receiving;
    }

    /// <summary>
    /// Breaks every stream and channel to the peers at once, without waiting for them: the epoch failed, and a peer
    /// that hangs must not hold this worker up. Peers waiting for this rank's messages fail at once.
    /// </summary>
    public void Abort()
    {
        aborted = true;
        lock (peers)
        {
            foreach (var peer in peers.OfType<Peer>()) peer.Break();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var peer in peers.OfType<Peer>())
        {
            if (!aborted) await peer.CompleteAsync();
            peer.Dispose();
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

    private async Task SendFramesAsync(Peer peer, MessageHeader header, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var frames = peer.Frames(() => OpenFrames(peer.Grpc));
        await frames.Lock.WaitAsync(ct);
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
                await frames.Call.RequestStream.WriteAsync(frame, ct);
                offset += length;
            }
            while (offset < payload.Length);
        }
        finally
        {
            frames.Lock.Release();
        }
    }

    private Peer Link(int worldPeer)
    {
        lock (peers)
        {
            return peers[worldPeer] ??= new Peer(options.Tls.CreateChannel(peerAddresses[worldPeer], new GrpcChannelOptions
            {
                MaxSendMessageSize = options.FrameBytes + 1024,
            }));
        }
    }

    private Metadata CallHeaders() => new()
    {
        { PeerMetadata.SenderRank, WorldRank.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { PeerMetadata.JobToken, jobToken },
        { PeerMetadata.Epoch, Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture) },
    };

    private Task<OutboundChannel?> OpenChannelAsync(int worldPeer, Peer peer) => ChannelHandshake.OpenAsync(
        peer.Grpc.CreateCallInvoker(), CallHeaders(), options, new Uri(peerAddresses[worldPeer]).Host, worldPeer, CancellationToken.None);

    private FrameStream OpenFrames(GrpcChannel channel) =>
        new(channel.CreateCallInvoker().AsyncClientStreamingCall(PeerWire.Send, null, new CallOptions(CallHeaders())));

    /// <summary>Everything this worker holds to reach one peer: its gRPC channel, and the frame stream or data channel opened on it.</summary>
    private sealed class Peer(GrpcChannel grpc) : IDisposable
    {
        private readonly Lock gate = new();
        private FrameStream? frames;

        public GrpcChannel Grpc { get; } = grpc;

        public Task<OutboundChannel?>? Opened { get; private set; }

        public FrameStream Frames(Func<FrameStream> open)
        {
            lock (gate) return frames ??= open();
        }

        public Task<OutboundChannel?> OpenAsync(Func<Task<OutboundChannel?>> open)
        {
            lock (gate) return Opened ??= open();
        }

        public void Break()
        {
            lock (gate)
            {
                frames?.Call.Dispose();
                if (Opened is { IsCompletedSuccessfully: true, Result: { } channel }) channel.Break();
            }
        }

        /// <summary>Ends the stream and the channel in order, and waits (briefly) until the peer has read them.</summary>
        public async Task CompleteAsync()
        {
            if (Opened is { IsCompletedSuccessfully: true, Result: { } channel }) await channel.DisposeAsync();
            if (frames is null) return;
            try
            {
                await frames.Call.RequestStream.CompleteAsync();
                await frames.Call.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is RpcException or TimeoutException or InvalidOperationException)
            {
                // The peer may already be gone at shutdown; nothing is left to deliver.
            }
        }

        public void Dispose()
        {
            if (Opened is { IsCompletedSuccessfully: true, Result: { } channel }) channel.DisposeAsync().AsTask().GetAwaiter().GetResult();
            frames?.Call.Dispose();
            Grpc.Dispose();
        }
    }

    private sealed class FrameStream(AsyncClientStreamingCall<WireFrame, SendSummary> call)
    {
        public AsyncClientStreamingCall<WireFrame, SendSummary> Call { get; } = call;

        public SemaphoreSlim Lock { get; } = new(1, 1);
    }
}
