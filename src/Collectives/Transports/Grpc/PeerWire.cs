using Dtrain.Contracts.Collectives;
using Google.Protobuf;
using Grpc.Core;

namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>The methods of protos/collectives.proto's Peer service, Send with <see cref="WireFrame"/> as its request.</summary>
internal static class PeerWire
{
    public static readonly Method<ChannelRequest, ChannelOffer> OpenChannel = new(
        MethodType.DuplexStreaming,
        "dtrain.collectives.Peer",
        "OpenChannel",
        Marshallers.Create(request => request.ToByteArray(), ChannelRequest.Parser.ParseFrom),
        Marshallers.Create(offer => offer.ToByteArray(), ChannelOffer.Parser.ParseFrom));

    public static readonly Method<WireFrame, SendSummary> Send = new(
        MethodType.ClientStreaming,
        "dtrain.collectives.Peer",
        "Send",
        WireFrame.Marshaller,
        Marshallers.Create(summary => summary.ToByteArray(), SendSummary.Parser.ParseFrom));
}
