using Dtrain.Collectives.Buffers;

namespace Dtrain.Collectives.Algorithms;

/// <summary>Typed send and receive over a communicator's byte messages.</summary>
internal static class Exchange
{
    public static ValueTask SendAsync<T>(Communicator comm, int peer, MessageHeader header, Memory<T> data, CancellationToken ct)
        where T : unmanaged => comm.SendAsync(peer, header, data.AsBytes(), ct);

    public static ValueTask ReceiveAsync<T>(Communicator comm, int peer, MessageHeader header, Memory<T> data, CancellationToken ct)
        where T : unmanaged => comm.ReceiveAsync(peer, header, data.AsBytes(), ct);

    /// <summary>Sends and receives at once: a ring where every rank first sends and then receives could stall.</summary>
    public static async Task SendReceiveAsync<T>(
        Communicator comm, MessageHeader header, int to, Memory<T> outgoing, int from, Memory<T> incoming, CancellationToken ct)
        where T : unmanaged
    {
        var send = SendAsync(comm, to, header, outgoing, ct).AsTask();
        try
        {
            await ReceiveAsync(comm, from, header, incoming, ct);
        }
        finally
        {
            await send;
        }
    }

    public static int Mod(int value, int modulus) => ((value % modulus) + modulus) % modulus;
}
