using Dtrain.Contracts.Collectives;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>
/// Point-to-point messages between worker processes over gRPC: one long-lived client stream to each peer this
/// rank sends to (opened on first use), frames of at most <see cref="GrpcTransportOptions.FrameBytes"/>, and the
/// local <see cref="PeerInbox"/> for what peers send here.
/// </summary>
public sealed class GrpcCommunicator : ICommunicator
{
    private readonly IReadOnlyList<string> peerAddresses;
    private readonly PeerInbox inbox;
    private readonly string jobToken;
    private readonly GrpcTransportOptions options;
    private readonly Outbound?[] outbound;

    public GrpcCommunicator(
        int rank, IReadOnlyList<string> peerAddresses, PeerInbox inbox, string jobToken, GrpcTransportOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, peerAddresses.Count);
        Rank = rank;
        this.peerAddresses = peerAddresses;
        this.inbox = inbox;
        this.jobToken = jobToken;
        this.options = options ?? new GrpcTransportOptions();
        outbound = new Outbound?[peerAddresses.Count];
    }

    public int Rank { get; }

    public int Size => peerAddresses.Count;

    public string Transport => "grpc";

    public async ValueTask SendAsync(int peer, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        Outbound link;
        lock (outbound)
        {
            link = outbound[peer] ??= Open(peer);
        }
        await link.Lock.WaitAsync(cancellationToken);
        try
        {
            long sequence = link.NextSequence++;
            int offset = 0;
            do
            {
                int length = Math.Min(options.FrameBytes, message.Length - offset);
                var frame = new Frame
                {
                    Sequence = sequence,
                    // No copy: WriteAsync serialises the frame before it completes, and the caller keeps the
                    // buffer unchanged until this method returns.
                    Payload = UnsafeByteOperations.UnsafeWrap(message.Slice(offset, length)),
                    EndOfMessage = offset + length == message.Length,
                };
                await link.Call.RequestStream.WriteAsync(frame, cancellationToken);
                offset += length;
            }
            while (offset < message.Length);
        }
        catch (RpcException broken)
        {
            throw new PeerLostException(peer, broken);
        }
        finally
        {
            link.Lock.Release();
        }
    }

    public async ValueTask ReceiveAsync(int peer, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.ReceiveTimeout);
        try
        {
            await inbox.ReceiveAsync(peer, buffer, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CollectiveException(
                $"rank {Rank} waited {options.ReceiveTimeout.TotalSeconds:0.#} s for a message from rank {peer}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var link in outbound.OfType<Outbound>())
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
            link.Call.Dispose();
            link.Channel.Dispose();
        }
    }

    private Outbound Open(int peer)
    {
        var channel = GrpcChannel.ForAddress(peerAddresses[peer], new GrpcChannelOptions
        {
            MaxSendMessageSize = options.FrameBytes + 1024,
        });
        var headers = new Metadata
        {
            { PeerMetadata.SenderRank, Rank.ToString() },
            { PeerMetadata.JobToken, jobToken },
        };
        return new Outbound(channel, new Peer.PeerClient(channel).Send(headers));
    }

    private sealed class Outbound(GrpcChannel channel, AsyncClientStreamingCall<Frame, SendSummary> call)
    {
        public GrpcChannel Channel { get; } = channel;

        public AsyncClientStreamingCall<Frame, SendSummary> Call { get; } = call;

        public SemaphoreSlim Lock { get; } = new(1, 1);

        public long NextSequence { get; set; }
    }
}
