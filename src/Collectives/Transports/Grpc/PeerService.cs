using Dtrain.Contracts.Collectives;
using Dtrain.Telemetry;
using Grpc.Core;

namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>
/// The gRPC endpoint peers stream their frames to and open their data channels with; it only authenticates and
/// hands frames to the inbox, and channel requests to its <see cref="DataChannels.InboundChannels"/>.
/// </summary>
[BindServiceMethod(typeof(PeerService), nameof(BindService))]
public class PeerService(PeerInbox inbox)
{
    /// <summary>Binds the methods of <see cref="PeerWire"/> to this service, as generated gRPC code would.</summary>
    public static void BindService(ServiceBinderBase binder, PeerService? service)
    {
        binder.AddMethod(PeerWire.Send, service is null ? null : service.Send);
        binder.AddMethod(PeerWire.OpenChannel, service is null ? null : service.OpenChannel);
    }

    /// <remarks>Virtual because gRPC's binder only accepts handlers that are virtual on the bound type.</remarks>
    public virtual async Task<SendSummary> Send(IAsyncStreamReader<WireFrame> requestStream, ServerCallContext context)
    {
        var (sender, epoch) = await AuthenticateAsync(context);
        long messages = 0, messageContext = 0;
        try
        {
            await foreach (var frame in requestStream.ReadAllAsync(context.CancellationToken))
            {
                // Frames of one message are contiguous; its first frame says which communicator it is for.
                if (frame.Header is { } header) messageContext = header.Context;
                inbox.Deliver(epoch, sender, messageContext, frame);
                if (frame.EndOfMessage) messages++;
            }
            inbox.Close(epoch, sender, null);
        }
        catch (Exception broken)
        {
            inbox.Close(epoch, sender, broken);
            throw;
        }
        return new SendSummary { Messages = messages };
    }

    /// <remarks>Virtual because gRPC's binder only accepts handlers that are virtual on the bound type.</remarks>
    public virtual async Task OpenChannel(IAsyncStreamReader<ChannelRequest> requests, IServerStreamWriter<ChannelOffer> offers, ServerCallContext context)
    {
        var (sender, epoch) = await AuthenticateAsync(context);
        await inbox.Channels.AcceptAsync(epoch, sender, requests, offers, context.CancellationToken);
    }

    /// <summary>
    /// The caller's world rank and epoch, once it showed the job's token and claims a rank of an epoch this worker
    /// is in; refuses the call otherwise.
    /// </summary>
    private async Task<(int Sender, long Epoch)> AuthenticateAsync(ServerCallContext context)
    {
        if (!inbox.Admits(context.RequestHeaders.GetValue(PeerMetadata.JobToken)))
        {
            DtrainMetrics.RejectedConnections.WithLabels("peer", "token").Inc();
            throw new RpcException(new Status(StatusCode.Unauthenticated, "this peer does not hold the job's token"));
        }
        if (!int.TryParse(context.RequestHeaders.GetValue(PeerMetadata.SenderRank), out int sender) || sender < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"missing or bad {PeerMetadata.SenderRank} header"));
        }
        if (!long.TryParse(context.RequestHeaders.GetValue(PeerMetadata.Epoch), out long epoch) || epoch < 1)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"missing or bad {PeerMetadata.Epoch} header"));
        }
        if (!inbox.Accepts(epoch))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"this worker has left epoch {epoch}"));
        }
        if (await inbox.WorldSizeOfAsync(epoch, context.CancellationToken) is not { } worldSize)
        {
            if (!inbox.Accepts(epoch)) throw new RpcException(new Status(StatusCode.FailedPrecondition, $"this worker has left epoch {epoch}"));
            throw Refuse("claim", StatusCode.InvalidArgument, $"epoch {epoch} is not an epoch this worker is in");
        }
        if (sender >= worldSize)
        {
            throw Refuse("claim", StatusCode.InvalidArgument, $"rank {sender} is not a rank of epoch {epoch} ({worldSize} workers)");
        }
        return (sender, epoch);
    }

    /// <summary>A refusal counted in dtrain_rejected_connections_total under <paramref name="reason"/>.</summary>
    private static RpcException Refuse(string reason, StatusCode code, string detail)
    {
        DtrainMetrics.RejectedConnections.WithLabels("peer", reason).Inc();
        return new RpcException(new Status(code, detail));
    }
}
