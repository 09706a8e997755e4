using System.Net;
using System.Net.Sockets;

namespace Dtrain.Tests;

internal static class TestPorts
{
    /// <summary>A port P with P + 1 free too, as the coordinator needs (gRPC on P, metrics on P + 1).</summary>
    public static int FreePair()
    {
        for (int attempt = 0; ; attempt++)
        {
            using var first = new TcpListener(IPAddress.Loopback, 0);
            first.Start();
            int port = ((IPEndPoint)first.LocalEndpoint).Port;
            try
            {
                using var second = new TcpListener(IPAddress.Loopback, port + 1);
                second.Start();
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }
}
