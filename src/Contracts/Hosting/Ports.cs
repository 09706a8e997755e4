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

    /// <summary>Turns Kestrel's "address in use" into a one-line error that names the port.</summary>
    public static DtrainException InUse(int port, string what, Exception inner) =>
        new($"port {port} ({what}) is already in use; choose another with --port", inner);
}
