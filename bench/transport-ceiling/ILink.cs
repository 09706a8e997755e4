namespace Dtrain.TransportCeiling;

/// <summary>A connection to the peer rank: a stream to send on and a stream to receive on.</summary>
interface ILink : IAsyncDisposable
{
    Stream Outgoing { get; }
    Stream Incoming { get; }
}
