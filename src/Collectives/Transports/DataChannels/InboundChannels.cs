using System.Collections.Concurrent;
using System.Net;
using Dtrain.Contracts.Collectives;
using Grpc.Core;

namespace Dtrain.Collectives.Transports.DataChannels;

/// <summary>
/// The data channels peers opened to this worker, one per (membership epoch, sender), and the receiving side of
/// their handshake. A receive may come before its sender opened the channel; it waits for it. A sender that fell
/// back to the gRPC streams says so, and its messages are read from those.
/// </summary>
/// <param name="listenAddress">Where TCP channels are accepted.</param>
/// <param name="isRetired">Whether this worker has left an epoch (<see cref="Grpc.PeerInbox"/> keeps that).</param>
internal sealed class InboundChannels(IPAddress listenAddress, Func<long, bool> isRetired) : IDisposable
{
    private readonly ConcurrentDictionary<(long Epoch, int Sender), TaskCompletionSource<InboundChannel?>> opened = new();
    private readonly Lock listenerGate = new();
    private TcpChannelListener? listener;

    /// <summary>The channel <paramref name="sender"/> opened in <paramref name="epoch"/>; null when it sends over the gRPC streams.</summary>
    public Task<InboundChannel?> FromAsync(long epoch, int sender, CancellationToken ct) =>
        IsRetired(epoch) ? Task.FromException<InboundChannel?>(new PeerLostException(sender)) : Slot(epoch, sender).Task.WaitAsync(ct);

    /// <summary>
    /// Answers one OpenChannel call of an authenticated sender, then holds the call for the channel's lifetime: when
    /// the call breaks (the sender died or aborted), the channel breaks too, and what waits on it fails at once.
    /// </summary>
    public async Task AcceptAsync(
        long epoch, int sender, IAsyncStreamReader<ChannelRequest> requests, IServerStreamWriter<ChannelOffer> offers, CancellationToken ct)
    {
        if (!await requests.MoveNext(ct)) return;
        var request = requests.Current;
        var offer = IsRetired(epoch) ? new ChannelOffer { Refusal = $"this worker has left epoch {epoch}" }
            : Slot(epoch, sender).Task.IsCompleted ? new ChannelOffer { Refusal = $"rank {sender} already opened a channel in epoch {epoch}" }
            : request.Kind switch
            {
                "shm" => AcceptSharedMemory(epoch, sender, request),
                "tcp" => AcceptTcp(epoch, sender, request),
                "http2" => Register(epoch, sender, null, new ChannelOffer { Kind = "http2" }),
                var other => new ChannelOffer { Refusal = $"unknown data channel '{other}'" },
            };
        await offers.WriteAsync(offer, ct);
        if (offer.Kind == "") return;
        try
        {
            // The sender says nothing more on the call; it only keeps it open.
            while (await requests.MoveNext(ct))
            {
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or RpcException or InvalidOperationException)
        {
            // A sender that died may end the call either way: by an error, or as if it had completed it.
        }
        if (opened.TryGetValue((epoch, sender), out var slot) && slot.Task.IsCompletedSuccessfully) slot.Task.Result?.CallEnded();
    }

    /// <summary>
    /// This worker has left <paramref name="epoch"/> (already marked retired): its channels and every earlier epoch's
    /// close, and what waits on them fails.
    /// </summary>
    public async Task RetireAsync(long epoch)
    {
        foreach (var key in opened.Keys.Where(k => k.Epoch <= epoch))
        {
            if (!opened.TryRemove(key, out var slot)) continue;
            if (!slot.TrySetException(new PeerLostException(key.Sender)) && slot.Task.IsCompletedSuccessfully && slot.Task.Result is { } channel)
            {
                await channel.DisposeAsync();
            }
        }
    }

    /// <summary>Stops accepting TCP channels; the channels themselves close when their epochs retire.</summary>
    public void Dispose()
    {
        lock (listenerGate) listener?.Dispose();
    }

    private ChannelOffer AcceptSharedMemory(long epoch, int sender, ChannelRequest request)
    {
        var ring = SharedMemoryRing.TryOpen(request.ShmPath, request.ShmNonce.Span, out string? refusal);
        return ring is null
            ? new ChannelOffer { Refusal = refusal }
            : Register(epoch, sender, new InboundChannel(sender, new SharedMemoryInboundLink(ring)), new ChannelOffer { Kind = "shm" });
    }

    private ChannelOffer AcceptTcp(long epoch, int sender, ChannelRequest request)
    {
        if (request.TcpStripes is < 1 or > 64)
        {
            return new ChannelOffer { Refusal = $"a channel of {request.TcpStripes} sockets (this worker takes 1 to 64)" };
        }
        TcpChannelListener tcp;
        lock (listenerGate) tcp = listener ??= new TcpChannelListener(listenAddress);
        byte[] token = tcp.Expect(request.TcpStripes, sockets =>
            Register(epoch, sender, new InboundChannel(sender, new TcpInboundLink(sockets)), new ChannelOffer()));
        return new ChannelOffer { Kind = "tcp", TcpPort = tcp.Port, TcpToken = Google.Protobuf.ByteString.CopyFrom(token) };
    }

    /// <summary>Fills the sender's slot with <paramref name="channel"/>; one that comes too late (a retired epoch, a taken slot) is closed.</summary>
    private ChannelOffer Register(long epoch, int sender, InboundChannel? channel, ChannelOffer accepted)
    {
        if (!IsRetired(epoch) && Slot(epoch, sender).TrySetResult(channel)) return accepted;
        if (channel is not null) _ = channel.DisposeAsync().AsTask();
        return new ChannelOffer { Refusal = $"rank {sender} cannot open a channel in epoch {epoch} any more" };
    }

    private bool IsRetired(long epoch) => isRetired(epoch);

    private TaskCompletionSource<InboundChannel?> Slot(long epoch, int sender) =>
        opened.GetOrAdd((epoch, sender), _ => new TaskCompletionSource<InboundChannel?>(TaskCreationOptions.RunContinuationsAsynchronously));
}
