using Dtrain.Contracts;

namespace Dtrain.Collectives;

/// <summary>A collective could not complete: a peer is gone, ranks disagree, or a wait timed out.</summary>
public class CollectiveException(string message, Exception? inner = null) : DtrainException(message, inner);

/// <summary>A peer's connection broke while messages were still expected from it, or could not be sent to it.</summary>
public sealed class PeerLostException(int peer, Exception? inner = null)
    : CollectiveException($"lost the connection to rank {peer}", inner)
{
    public int Peer { get; } = peer;
}

/// <summary>Two ranks ran different collectives (operation, size, type or order) where they had to run the same.</summary>
public sealed class CollectiveMismatchException(int rank, MessageHeader expected, int peer, MessageHeader received)
    : CollectiveException($"collective mismatch: rank {rank} is in {expected} but rank {peer} sent {received}")
{
    public MessageHeader Expected { get; } = expected;

    public MessageHeader Received { get; } = received;
}

/// <summary>A collective waited longer than the communicator's timeout for a peer.</summary>
public sealed class CollectiveTimeoutException(int rank, int peer, MessageHeader expected, TimeSpan timeout)
    : CollectiveException($"rank {rank} waited {timeout.TotalSeconds:0.###} s for rank {peer} in {expected}");
