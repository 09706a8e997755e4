using Dtrain.Contracts.Collectives;
using Google.Protobuf;
using Grpc.Core;

namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>The Peer.Send method of protos/collectives.proto, with <see cref="WireFrame"/> as its request.</summary>
internal static class PeerWire
{
    public static readonly Method<WireFrame, SendSummary> Send = new(
        MethodType.ClientStreaming,
        "dtrain.collectives.Peer",
        "Send",
        WireFrame.Marshaller,
        Marshallers.Create(summary => summary.ToByteArray(), SendSummary.Parser.ParseFrom));
}
