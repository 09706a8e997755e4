using System.Net;
using System.Net.Sockets;

namespace Dtrain.Contracts.Hosting;

public static class Ports
{
    /// <summary>A TCP port that is free right now, for endpoints nobody needs to know in advance.</summary>
    public static int FindFree()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
