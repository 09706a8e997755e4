using System.Buffers.Binary;
using System.Net.Sockets;
using Dtrain.Contracts.Collectives;
using Dtrain.Collectives.Transports.Grpc;
using Grpc.Core;

namespace Dtrain.Collectives.Transports.DataChannels;

/// <summary>
/// The sending side of a data channel's negotiation, over the peer's gRPC endpoint with the job's token: try the
/// channels that <see cref="DataChannel"/> allows, fastest first, and keep the first the peer accepts. Under
/// <see cref="DataChannel.Auto"/>: shared memory, then TCP (not when the endpoints use TLS: TCP would carry the
/// bytes in clear), then the gRPC streams themselves.
/// </summary>
internal static class ChannelHandshake
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The channel to <paramref name="peer"/>, or null when the peer agreed to take the gRPC streams.</summary>
    public static async Task<OutboundChannel?> OpenAsync(
        CallInvoker invoker, Metadata headers, GrpcTransportOptions options, string peerHost, int peer, CancellationToken ct)
    {
        var refusals = new List<string>();
        foreach (var kind in Candidates(options.DataChannel, options.Tls.Scheme == "https"))
        {
            var call = invoker.AsyncDuplexStreamingCall(PeerWire.OpenChannel, null, new CallOptions(headers));
            try
            {
                var outcome = kind switch
                {
                    DataChannel.Shm => await OfferSharedMemoryAsync(call, options.SharedMemoryDirectory, ct),
                    DataChannel.Tcp => await ConnectTcpAsync(call, peerHost, options.TcpSockets, ct),
                    _ => await AskAsync(call, new ChannelRequest { Kind = "http2" }, ct) is var offer && offer.Kind == "http2"
                        ? (null, null) : (null, offer.Refusal),
                };
                if (outcome.Refusal is null)
                {
                    return outcome.Link is null ? Done(call) : new OutboundChannel(kind, outcome.Link, call);
                }
                refusals.Add($"{kind.Name()}: {outcome.Refusal}");
            }
            catch (SocketException e)
            {
                refusals.Add($"{kind.Name()}: {e.Message}");
            }
            call.Dispose();
        }
        throw new CollectiveException($"no data channel to rank {peer} ({string.Join("; ", refusals)})");
    }

    private static IEnumerable<DataChannel> Candidates(DataChannel wanted, bool tls) => wanted switch
    {
        DataChannel.Auto => tls ? [DataChannel.Shm, DataChannel.Http2] : [DataChannel.Shm, DataChannel.Tcp, DataChannel.Http2],
        var one => [one],
    };

    /// <summary>The streams carry the messages; the call that agreed to it has no further use.</summary>
    private static OutboundChannel? Done(AsyncDuplexStreamingCall<ChannelRequest, ChannelOffer> call)
    {
        call.Dispose();
        return null;
    }

    private static async Task<(IOutboundLink? Link, string? Refusal)> OfferSharedMemoryAsync(
        AsyncDuplexStreamingCall<ChannelRequest, ChannelOffer> call, string directory, CancellationToken ct)
    {
        var ring = SharedMemoryRing.TryCreate(directory, SharedMemoryRing.DefaultCapacity, out string path, out byte[] nonce, out string? refusal);
        if (ring is null) return (null, refusal);
        try
        {
            var offer = await AskAsync(call, new ChannelRequest { Kind = "shm", ShmPath = path, ShmNonce = Google.Protobuf.ByteString.CopyFrom(nonce) }, ct);
            if (offer.Kind == "shm") return (new SharedMemoryOutboundLink(ring), null);
            ring.Dispose();
            return (null, offer.Refusal);
        }
        catch
        {
            ring.Dispose();
            throw;
        }
        finally
        {
            File.Delete(path);   // both processes have it mapped, or the receiver never will
        }
    }

    private static async Task<(IOutboundLink? Link, string? Refusal)> ConnectTcpAsync(
        AsyncDuplexStreamingCall<ChannelRequest, ChannelOffer> call, string host, int sockets, CancellationToken ct)
    {
        var offer = await AskAsync(call, new ChannelRequest { Kind = "tcp", TcpStripes = sockets }, ct);
        if (offer.Kind != "tcp") return (null, offer.Refusal);
        var connected = new List<Socket>();
        try
        {
            for (int index = 0; index < sockets; index++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                connected.Add(socket);
                await socket.ConnectAsync(host, offer.TcpPort, ct);
                byte[] greeting = new byte[TcpChannelListener.GreetingBytes];
                offer.TcpToken.Span.CopyTo(greeting);
                BinaryPrimitives.WriteInt32LittleEndian(greeting.AsSpan(TcpChannelListener.TokenBytes), index);
                await socket.SendAsync(greeting, SocketFlags.None, ct);
            }
            return (new TcpOutboundLink(connected), null);
        }
        catch
        {
            connected.ForEach(s => s.Dispose());
            throw;
        }
    }

    private static async Task<ChannelOffer> AskAsync(
        AsyncDuplexStreamingCall<ChannelRequest, ChannelOffer> call, ChannelRequest request, CancellationToken ct)
    {
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(ct);
        patience.CancelAfter(AnswerTimeout);
        await call.RequestStream.WriteAsync(request, patience.Token);
        return await call.ResponseStream.MoveNext(patience.Token)
            ? call.ResponseStream.Current
            : throw new CollectiveException("the peer ended the channel handshake without an answer");
    }
}
