using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Dtrain.Collectives.Transports.DataChannels;
using Dtrain.Contracts.Collectives;
using Dtrain.Contracts.Jobs;

namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>
/// The receiving side of the gRPC transport: frames that peers streamed to this worker, queued per (membership
/// epoch, sender world rank, communicator context) until a communicator asks for the next message, and the data
/// channels peers opened here (<see cref="InboundChannels"/>). It exists before the worker knows its rank, because
/// the worker's endpoint must be listening before it joins the job, and it outlives an epoch: ranks are numbered
/// afresh in each, so their messages must never mix.
/// </summary>
/// <param name="jobToken">What a peer must present.</param>
/// <param name="dataListenAddress">Where TCP data channels are accepted: the address the worker's endpoint listens on.</param>
public sealed class PeerInbox : IDisposable
{
    private readonly string jobToken;
    private readonly ConcurrentDictionary<(long Epoch, int Sender, long Context), Channel<WireFrame>> queues = new();
    private readonly ConcurrentDictionary<(long Epoch, int Sender), Exception?> closedSenders = new();
    /// <summary>Each epoch's world size, once this worker has entered it.</summary>
    private readonly ConcurrentDictionary<long, TaskCompletionSource<int>> worlds = new();
    private long retiredThrough;

    public PeerInbox(string jobToken, IPAddress? dataListenAddress = null)
    {
        this.jobToken = jobToken;
        Channels = new InboundChannels(dataListenAddress ?? IPAddress.Any, epoch => !Accepts(epoch));
    }

    internal InboundChannels Channels { get; }

    /// <summary>
    /// How long a peer's call of an epoch this worker has not entered yet waits for it: a peer may learn of an epoch
    /// before this worker does. A call of an epoch that does not come in that time is refused.
    /// </summary>
    public TimeSpan EpochArrival { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>This worker is a rank of <paramref name="epoch"/>'s world of <paramref name="worldSize"/>.</summary>
    internal void Enter(long epoch, int worldSize) => World(epoch).TrySetResult(worldSize);

    private TaskCompletionSource<int> World(long epoch) =>
        worlds.GetOrAdd(epoch, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>
    /// <paramref name="epoch"/>'s world size, waiting up to <see cref="EpochArrival"/> for this worker to enter it;
    /// null when it does not, or has left it.
    /// </summary>
    internal async Task<int?> WorldSizeOfAsync(long epoch, CancellationToken ct)
    {
        var world = World(epoch);
        try
        {
            return await world.Task.WaitAsync(EpochArrival, ct);
        }
        catch (Exception e) when (e is TimeoutException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // Not kept for an epoch nobody entered: a caller making epochs up must not grow the table.
            worlds.TryRemove(KeyValuePair.Create(epoch, world));
            return null;
        }
    }

    /// <summary>Whether a caller presented this job's token; compared in constant time.</summary>
    public bool Admits(string? presentedToken) => JobToken.Matches(jobToken, presentedToken);

    /// <summary>Whether messages of <paramref name="epoch"/> are still taken; those of a retired epoch are not.</summary>
    internal bool Accepts(long epoch) => epoch > Interlocked.Read(ref retiredThrough);

    internal void Deliver(long epoch, int sender, long context, WireFrame frame)
    {
        // The queues are unbounded: writing never waits, and fails only once the sender's queue was closed.
        if (!Accepts(epoch) || !Queue(epoch, sender, context).Writer.TryWrite(frame)) frame.Release();
    }

    /// <summary>The sender's stream ended: every queue from it ends too, with the error if it broke.</summary>
    internal void Close(long epoch, int sender, Exception? error)
    {
        closedSenders[(epoch, sender)] = error;
        foreach (var ((inEpoch, from, _), queue) in queues)
        {
            if (inEpoch == epoch && from == sender) Complete(queue, sender, error);
        }
    }

    /// <summary>
    /// This worker has left <paramref name="epoch"/>: what is queued from it and every earlier epoch is dropped,
    /// and what still arrives from them is refused.
    /// </summary>
    public void Retire(long epoch)
    {
        long known;
        do
        {
            known = Interlocked.Read(ref retiredThrough);
        }
        while (epoch > known && Interlocked.CompareExchange(ref retiredThrough, epoch, known) != known);
        foreach (var key in queues.Keys.Where(key => key.Epoch <= epoch))
        {
            if (!queues.TryRemove(key, out var queue)) continue;
            Complete(queue, key.Sender, null);
            while (queue.Reader.TryRead(out var frame)) frame.Release();
        }
        foreach (var key in closedSenders.Keys.Where(key => key.Epoch <= epoch)) closedSenders.TryRemove(key, out _);
        foreach (var key in worlds.Keys.Where(key => key <= epoch))
        {
            if (worlds.TryRemove(key, out var world)) world.TrySetCanceled();
        }
        Channels.RetireAsync(epoch).GetAwaiter().GetResult();
    }

    /// <summary>Leaves every epoch (closing every channel) and stops accepting channels.</summary>
    public void Dispose()
    {
        Retire(long.MaxValue);
        Channels.Dispose();
    }

    /// <summary>Reads the next message from <paramref name="sender"/>; <paramref name="verify"/> sees its header first.</summary>
    internal async ValueTask ReceiveAsync(
        long epoch, int sender, long context, Memory<byte> buffer, Action<MessageHeader, long> verify, CancellationToken ct)
    {
        var queue = Queue(epoch, sender, context);
        var first = await ReadAsync(queue, sender, ct);
        if (first.Header is null)
        {
            first.Release();
            throw new CollectiveException($"rank {sender} sent a message without a header");
        }
        try
        {
            verify(GrpcTransport.FromWire(first.Header), first.Header.PayloadBytes);
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

    private Channel<WireFrame> Queue(long epoch, int sender, long context) => queues.GetOrAdd((epoch, sender, context), _ =>
    {
        var queue = Channel.CreateUnbounded<WireFrame>(new() { SingleReader = true, SingleWriter = true });
        // A queue first asked for after its sender left must not wait forever.
        if (closedSenders.TryGetValue((epoch, sender), out var error)) Complete(queue, sender, error);
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
