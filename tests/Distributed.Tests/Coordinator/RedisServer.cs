using System.Diagnostics;
using System.Net.Sockets;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Coordinator;

/// <summary>A real redis-server (Debian's) on a free loopback port, without persistence to disk, for one test.</summary>
internal sealed class RedisServer : IDisposable
{
    private readonly Process process;
    private readonly TempDirectory directory = new();

    private RedisServer(int port)
    {
        Port = port;
        process = Process.Start(new ProcessStartInfo("redis-server",
            ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.Path])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(TestPorts.FreeRun(1));
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", server.Port);
                return server;
            }
            catch (SocketException) when (waited.Elapsed < TimeSpan.FromSeconds(10) && !server.process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill();
        process.WaitForExit();
        process.Dispose();
        directory.Dispose();
    }
}
