namespace Dtrain.Collectives.Transports.Grpc;

public sealed record GrpcTransportOptions
{
    /// <summary>Largest payload of one frame; larger messages are split. Kept well under gRPC's 4 MiB message limit.</summary>
    public int FrameBytes { get; init; } = 1 << 20;

    /// <summary>How long a receive waits for a peer's message before the collective fails.</summary>
    public TimeSpan ReceiveTimeout { get; init; } = TimeSpan.FromMinutes(5);
}
