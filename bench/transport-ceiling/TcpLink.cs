using System.Net;
using System.Net.Sockets;

namespace Dtrain.TransportCeiling;

/// <summary>Raw TCP: one connection per direction, NoDelay, default socket buffer sizes.</summary>
sealed class TcpLink(NetworkStream outgoing, NetworkStream incoming) : ILink
{
    public Stream Outgoing => outgoing;
    public Stream Incoming => incoming;

    public static async Task<TcpLink> ConnectAsync(Rendezvous rendezvous)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var accepting = listener.AcceptAsync();
        int peerPort = await rendezvous.ExchangePortsAsync(((IPEndPoint)listener.LocalEndPoint!).Port);

        var sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await sender.ConnectAsync(IPAddress.Loopback, peerPort);
        var receiver = await accepting;
        receiver.NoDelay = true;
        return new TcpLink(new NetworkStream(sender, ownsSocket: true), new NetworkStream(receiver, ownsSocket: true));
    }

    public ValueTask DisposeAsync()
    {
        outgoing.Dispose();
        incoming.Dispose();
        return ValueTask.CompletedTask;
    }
}
