namespace Dtrain.Collectives;

/// <summary>
/// A group of ranks that exchange messages point to point. Collective algorithms (see Algorithms/) are written
/// once over these two operations; a transport only moves bytes.
/// </summary>
public interface ICommunicator : IAsyncDisposable
{
    int Rank { get; }

    int Size { get; }

    /// <summary>The transport's name, as used in metric labels: "inproc", "grpc".</summary>
    string Transport { get; }

    /// <summary>Sends one message to <paramref name="peer"/>. Messages to the same peer arrive in order.</summary>
    ValueTask SendAsync(int peer, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Receives the next message from <paramref name="peer"/> into <paramref name="buffer"/>, whose length must equal
    /// the message's; a message of another length is an error, never a silent truncation.
    /// </summary>
    ValueTask ReceiveAsync(int peer, Memory<byte> buffer, CancellationToken cancellationToken = default);
}
