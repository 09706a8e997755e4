namespace Dtrain.Hosting;

/// <summary>How long a dtrain server keeps a connection that does not carry a request.</summary>
public sealed record ConnectionLimits
{
    public static readonly ConnectionLimits Default = new();

    /// <summary>
    /// A connection with no request in flight is closed after this long: one that connected and sent nothing, or
    /// half an HTTP/2 preface, or half a request's headers, and an HTTP/2 connection whose streams have all ended.
    /// An open gRPC stream is a request in flight however long it stays silent, so the streams between workers, idle
    /// between steps for as long as a collective may wait, are never cut. dtrain's clients send a request at least
    /// once a second (heartbeats) or hold a stream open, and reconnect on their next call after a close; 30 s (Kestrel
    /// keeps such connections 130 s) frees what idle or stalled connections hold four times sooner.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
