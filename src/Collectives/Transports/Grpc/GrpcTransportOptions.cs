namespace Dtrain.Collectives.Transports.Grpc;

public sealed record GrpcTransportOptions
{
    /// <summary>Largest payload of one frame; larger messages are split. Kept well under gRPC's 4 MiB message limit.</summary>
    public int FrameBytes { get; init; } = 1 << 20;
}
