using Dtrain.Contracts.Collectives;
using Grpc.Core;

namespace Dtrain.Collectives.Transports.DataChannels;

/// <summary>
/// This worker's data channel to one peer: messages go out one at a time on the link, and the OpenChannel call that
/// negotiated it stays open beside it. When that call breaks (the peer died), the link breaks too, so a send
/// blocked on a full ring fails instead of waiting forever.
/// </summary>
internal sealed class OutboundChannel : IAsyncDisposable
{
    private readonly IOutboundLink link;
    private readonly AsyncDuplexStreamingCall<ChannelRequest, ChannelOffer> call;
    private readonly SemaphoreSlim turn = new(1, 1);
    private readonly byte[] header = new byte[ChannelHeader.Size];
    private readonly Task watch;
    private volatile bool completed;
    private int disposed;

    public OutboundChannel(DataChannel kind, IOutboundLink link, AsyncDuplexStreamingCall<ChannelRequest, ChannelOffer> call)
    {
        Kind = kind;
        this.link = link;
        this.call = call;
        watch = WatchAsync();
    }

    /// <summary>Shared memory or TCP.</summary>
    public DataChannel Kind { get; }

    public async ValueTask SendAsync(MessageHeader message, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        await turn.WaitAsync(ct);
        try
        {
            ChannelHeader.Write(header, message, payload.Length);
            await link.WriteAsync(header, payload, ct);
        }
        finally
        {
            turn.Release();
        }
    }

    /// <summary>Breaks the channel at once: the peer's receives from this worker fail.</summary>
    public void Break()
    {
        link.Break();
        call.Dispose();
    }

    /// <summary>Ends the channel in order once every send is done: the peer reads what was sent, then sees the end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1) return;
        try
        {
            if (await turn.WaitAsync(TimeSpan.FromSeconds(5)))
            {
                // Waits while the peer drains what was sent; if the peer is gone, the watch breaks the link.
                link.Complete();
                completed = true;
                await call.RequestStream.CompleteAsync();
                await watch.WaitAsync(TimeSpan.FromSeconds(5));
            }
            else
            {
                link.Break();   // a send is stuck: the peer does not read
            }
        }
        catch (Exception e) when (e is IOException or RpcException or InvalidOperationException or TimeoutException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // The peer may already be gone at shutdown, or the channel was broken; nothing is left to deliver.
        }
        link.Dispose();
        call.Dispose();
    }

    private async Task WatchAsync()
    {
        try
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        }
        catch (Exception e) when (e is RpcException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            // Broken: handled below.
        }
        if (!completed) link.Break();
    }
}
