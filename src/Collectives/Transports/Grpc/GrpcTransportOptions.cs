using Dtrain.Contracts.Hosting;

namespace Dtrain.Collectives.Transports.Grpc;

public sealed record GrpcTransportOptions
{
    /// <summary>
    /// Largest payload of one frame; larger messages are split. Under the 85 KB at which .NET puts arrays on the
    /// large-object heap: each received frame is one array, and fresh large arrays are slow to touch (measured:
    /// 60 KiB frames beat 1 MiB and 4 MiB ones in `dtrain bench collectives`).
    /// </summary>
    public int FrameBytes { get; init; } = 60 << 10;

    /// <summary>The CA trusted in peers' https:// endpoints.</summary>
    public GrpcTls Tls { get; init; } = GrpcTls.None;
}
