namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>The call metadata every peer stream carries (see protos/collectives.proto).</summary>
internal static class PeerMetadata
{
    public const string SenderRank = "dtrain-rank";
    public const string JobToken = "dtrain-job-token";
    /// <summary>The membership epoch the sender is in: ranks are numbered afresh in each.</summary>
    public const string Epoch = "dtrain-epoch";
}
