using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Dtrain.Telemetry;

namespace Dtrain.Collectives.Transports.DataChannels;

/// <summary>
/// Where the senders of TCP channels connect to a worker. Every socket first presents a one-time token, which the
/// worker handed out over gRPC to a sender that held the job's token, and its place among the channel's sockets.
/// A socket with any other token is closed (and counted as a rejected connection); a token is forgotten once its
/// sockets are all in, or after <see cref="TokenLifetime"/>.
/// </summary>
internal sealed class TcpChannelListener : IDisposable
{
    public const int TokenBytes = 32;
    public const int GreetingBytes = TokenBytes + sizeof(int);
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan GreetingTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpListener listener;
    private readonly ConcurrentDictionary<string, Expected> expected = new();
    private readonly CancellationTokenSource stopping = new();

    public TcpChannelListener(IPAddress address)
    {
        listener = new TcpListener(address, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAllAsync();
    }

    public int Port { get; }

    /// <summary>A token for a sender that will connect <paramref name="sockets"/> sockets; <paramref name="connected"/> gets them, in order.</summary>
    public byte[] Expect(int sockets, Action<Socket[]> connected)
    {
        byte[] token = RandomNumberGenerator.GetBytes(TokenBytes);
        string key = Convert.ToHexString(token);
        var entry = new Expected(new Socket?[sockets], connected);
        expected[key] = entry;
        _ = Task.Delay(TokenLifetime, stopping.Token).ContinueWith(_ => Forget(key, entry), TaskScheduler.Default);
        return token;
    }

    public void Dispose()
    {
        stopping.Cancel();
        listener.Stop();
        foreach (var key in expected.Keys)
        {
            if (expected.TryRemove(key, out var entry)) entry.CloseAll();
        }
    }

    private async Task AcceptAllAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = GreetAsync(socket);
        }
    }

    private async Task GreetAsync(Socket socket)
    {
        socket.NoDelay = true;
        byte[] greeting = new byte[GreetingBytes];
        try
        {
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
            patience.CancelAfter(GreetingTimeout);
            await new NetworkStream(socket, ownsSocket: false).ReadExactlyAsync(greeting, patience.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or EndOfStreamException or ObjectDisposedException)
        {
            Reject(socket);
            return;
        }
        string key = Convert.ToHexString(greeting, 0, TokenBytes);
        int index = BinaryPrimitives.ReadInt32LittleEndian(greeting.AsSpan(TokenBytes));
        if (!expected.TryGetValue(key, out var entry) || !entry.Take(index, socket))
        {
            Reject(socket);
            return;
        }
        if (entry.Connectable() is { } all && expected.TryRemove(key, out _)) entry.Connected(all);
    }

    private void Forget(string key, Expected entry)
    {
        if (expected.TryRemove(new KeyValuePair<string, Expected>(key, entry))) entry.CloseAll();
    }

    private static void Reject(Socket socket)
    {
        DtrainMetrics.RejectedConnections.WithLabels("data", "token").Inc();
        socket.Dispose();
    }

    private sealed class Expected(Socket?[] sockets, Action<Socket[]> connected)
    {
        private readonly Lock gate = new();

        public Action<Socket[]> Connected { get; } = connected;

        /// <summary>Every socket, once all are in.</summary>
        public Socket[]? Connectable()
        {
            lock (gate) return sockets.All(s => s is not null) ? sockets.Select(s => s!).ToArray() : null;
        }

        public bool Take(int index, Socket socket)
        {
            lock (gate)
            {
                if (index < 0 || index >= sockets.Length || sockets[index] is not null) return false;
                sockets[index] = socket;
                return true;
            }
        }

        public void CloseAll()
        {
            lock (gate)
            {
                foreach (var socket in sockets) socket?.Dispose();
            }
        }
    }
}
