using Dtrain.Contracts;

namespace Dtrain.Collectives;

/// <summary>A collective could not complete: a peer is gone, a message had the wrong size, or a wait timed out.</summary>
public class CollectiveException(string message, Exception? inner = null) : DtrainException(message, inner);

/// <summary>A peer's connection broke while messages were still expected from it.</summary>
public sealed class PeerLostException(int peer, Exception? inner = null)
    : CollectiveException($"lost the connection to rank {peer}", inner)
{
    public int Peer { get; } = peer;
}
