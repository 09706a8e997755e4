using Dtrain.Collectives.Transports.DataChannels;
using Dtrain.Contracts.Network;

namespace Dtrain.Collectives.Transports.Grpc;

public sealed record GrpcTransportOptions
{
    /// <summary>
    /// Largest payload of one frame; larger messages are split. Under the 85 KB at which .NET puts arrays on the
    /// large-object heap: each received frame is one array, and fresh large arrays are slow to touch (measured:
    /// 60 KiB frames beat 1 MiB and 4 MiB ones in `dtrain bench collectives`).
    /// </summary>
    public int FrameBytes { get; init; } = 60 << 10;

    /// <summary>How bulk bytes travel to each peer; every rank of a job must use the same.</summary>
    public DataChannel DataChannel { get; init; } = DataChannel.Auto;

    /// <summary>
    /// Where this worker creates its shared-memory rings. Peers map files in /dev/shm only: elsewhere stands for
    /// a host whose /dev/shm the peers do not share (tests of the fallback use it).
    /// </summary>
    public string SharedMemoryDirectory { get; init; } = SharedMemoryRing.Directory;

    /// <summary>Sockets per TCP data channel; a large message is striped over them.</summary>
    public int TcpSockets { get; init; } = 1;

    /// <summary>The CA trusted in peers' https:// endpoints.</summary>
    public GrpcTls Tls { get; init; } = GrpcTls.None;
}
