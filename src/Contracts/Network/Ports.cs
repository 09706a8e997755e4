using System.Net;
using System.Net.Sockets;

namespace Dtrain.Contracts.Network;

public static class Ports
{
    /// <summary>
    /// Ports are drawn below Linux's ephemeral range (32768-60999): a port the kernel hands out for binding to port
    /// 0 is also handed to outgoing connections, and with many gRPC clients about, one of them could take the port
    /// between this check and the endpoint's own bind.
    /// </summary>
    private const int Lowest = 10000, AboveHighest = 32768;

    /// <summary>A TCP port that is free right now, for endpoints nobody needs to know in advance.</summary>
    public static int FindFree() => FindFreeRun(1);

    /// <summary>The first of <paramref name="count"/> consecutive TCP ports that are free right now.</summary>
    public static int FindFreeRun(int count)
    {
        for (int attempt = 0; ; attempt++)
        {
            int first = Random.Shared.Next(Lowest, AboveHighest - count);
            if (Enumerable.Range(first, count).All(IsFree)) return first;
            if (attempt == 1000) throw new DtrainException($"found no {count} free consecutive ports in {Lowest}-{AboveHighest - 1}");
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
