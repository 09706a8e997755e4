namespace Dtrain.Collectives.Transports.DataChannels;

/// <summary>
/// How bulk bytes travel between two workers of the gRPC transport, after the peers met and authenticated over gRPC.
/// </summary>
public enum DataChannel
{
    /// <summary>Shared memory when both processes can map the same file, else plain TCP (HTTP/2 when the endpoints use TLS).</summary>
    Auto,

    /// <summary>A ring of segments in a file in /dev/shm that both processes map: same host only.</summary>
    Shm,

    /// <summary>Plain TCP sockets, striped, authenticated with a one-time token handed out over gRPC.</summary>
    Tcp,

    /// <summary>The gRPC streams themselves: slower, but the only channel with TLS.</summary>
    Http2,
}

public static class DataChannels
{
    public static readonly IReadOnlyList<string> Names = ["auto", "shm", "tcp", "http2"];

    public static string Name(this DataChannel channel) => Names[(int)channel];

    public static DataChannel Parse(string name)
    {
        int index = Names.ToList().IndexOf(name);
        return index >= 0
            ? (DataChannel)index
            : throw new ArgumentException($"the data channel must be one of {string.Join(", ", Names)}, got '{name}'");
    }
}
