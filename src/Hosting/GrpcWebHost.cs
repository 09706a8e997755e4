using System.Net;
using Dtrain.Contracts;
using Dtrain.Contracts.Network;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dtrain.Hosting;

/// <summary>
/// The shape of every dtrain server: gRPC on one port (cleartext HTTP/2, or HTTPS given a certificate) and
/// Prometheus /metrics on another (cleartext HTTP/1.1), because cleartext HTTP/2 and HTTP/1.1 cannot share a port.
/// </summary>
public static class GrpcWebHost
{
    /// <param name="connections">How long the server keeps a connection that carries no request.</param>
    /// <param name="ports">The ports the listeners are bound to once the server started: a port given as 0 is one the kernel picked.</param>
    public static WebApplicationBuilder CreateBuilder(
        string listenAddress, int grpcPort, int metricsPort, GrpcTls tls, ConnectionLimits connections, out BoundPorts ports)
    {
        var bound = new BoundPorts();
        ports = bound;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Logs go to stderr: stdout is the command's own output, which --json keeps to JSON lines.
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        // A failed start is reported by StartAsync as one line; the host would also log it with a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var address = IPAddress.Parse(listenAddress);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Collective messages are megabytes: HTTP/2's defaults (16 KiB frames, windows under 1 MiB) would
            // stall every stream on flow-control round trips.
            kestrel.Limits.Http2.MaxFrameSize = 1 << 20;
            kestrel.Limits.Http2.InitialConnectionWindowSize = 64 << 20;
            kestrel.Limits.Http2.InitialStreamWindowSize = 64 << 20;
            // HTTP/2 keep-alive pings stay off: a worker too busy to answer one in time would lose its live streams.
            // Idle connections are bounded by time instead; their number only by the process's file limit, since a
            // cap would let a flood of idle connections lock the real workers out.
            kestrel.Limits.KeepAliveTimeout = connections.IdleTimeout;
            kestrel.Limits.RequestHeadersTimeout = connections.IdleTimeout;
            kestrel.Listen(address, grpcPort, listen =>
            {
                bound.GrpcListener = listen;
                listen.Protocols = HttpProtocols.Http2;
                if (tls.Certificate is { } certificate) listen.UseHttps(certificate);
            });
            kestrel.Listen(address, metricsPort, listen =>
            {
                bound.MetricsListener = listen;
                listen.Protocols = HttpProtocols.Http1;
            });
        });
        return builder;
    }

    /// <summary>Starts the server; a port that is taken becomes a one-line error that names it.</summary>
    public static async Task StartAsync(WebApplication app, string what, CancellationToken ct)
    {
        try
        {
            await app.StartAsync(ct);
        }
        catch (IOException e) when (e.InnerException is AddressInUseException)
        {
            await app.DisposeAsync();
            throw new DtrainException($"cannot start {what}: {e.Message}", e);
        }
    }
}

/// <summary>The ports a server's listeners are bound to; Kestrel sets a listener's end point to the bound one as it starts.</summary>
public sealed class BoundPorts
{
    internal ListenOptions? GrpcListener { get; set; }

    internal ListenOptions? MetricsListener { get; set; }

    public int Grpc => PortOf(GrpcListener);

    public int Metrics => PortOf(MetricsListener);

    private static int PortOf(ListenOptions? listener) =>
        listener?.IPEndPoint?.Port ?? throw new InvalidOperationException("the server has not been configured yet");
}
