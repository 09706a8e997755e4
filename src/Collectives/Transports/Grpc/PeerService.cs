using Dtrain.Contracts.Collectives;
using Dtrain.Telemetry;
using Grpc.Core;

namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>The gRPC endpoint peers stream their frames to; it only authenticates and hands frames to the inbox.</summary>
public sealed class PeerService(PeerInbox inbox) : Peer.PeerBase
{
    public override async Task<SendSummary> Send(IAsyncStreamReader<Frame> requestStream, ServerCallContext context)
    {
        if (!inbox.Admits(context.RequestHeaders.GetValue(PeerMetadata.JobToken)))
        {
            DtrainMetrics.RejectedConnections.WithLabels("peer").Inc();
            throw new RpcException(new Status(StatusCode.Unauthenticated, "this peer does not hold the job's token"));
        }
        if (!int.TryParse(context.RequestHeaders.GetValue(PeerMetadata.SenderRank), out int sender) || sender < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"missing or bad {PeerMetadata.SenderRank} header"));
        }

        long messages = 0, messageContext = 0;
        try
        {
            await foreach (var frame in requestStream.ReadAllAsync(context.CancellationToken))
            {
                // Frames of one message are contiguous; its first frame says which communicator it is for.
                if (frame.Header is { } header) messageContext = header.Context;
                await inbox.DeliverAsync(sender, messageContext, frame, context.CancellationToken);
                if (frame.EndOfMessage) messages++;
            }
            inbox.Close(sender, null);
        }
        catch (Exception broken)
        {
            inbox.Close(sender, broken);
            throw;
        }
        return new SendSummary { Messages = messages };
    }
}
