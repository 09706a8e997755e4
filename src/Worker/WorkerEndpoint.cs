using System.Net;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts;
using Dtrain.Contracts.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Dtrain.Worker;

/// <summary>
/// The worker's own server: the peer endpoint other ranks stream collective messages to (HTTP/2) and
/// Prometheus /metrics (HTTP/1.1), on two ports because cleartext HTTP/2 and HTTP/1.1 cannot share one.
/// </summary>
public sealed class WorkerEndpoint : IAsyncDisposable
{
    private readonly WebApplication app;

    private WorkerEndpoint(WebApplication app, string peerAddress, string metricsAddress)
    {
        this.app = app;
        PeerAddress = peerAddress;
        MetricsAddress = metricsAddress;
    }

    public string PeerAddress { get; }

    public string MetricsAddress { get; }

    public static async Task<WorkerEndpoint> StartAsync(PeerInbox inbox, WorkerOptions options, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        int peerPort = options.PeerPort == 0 ? Ports.FindFree() : options.PeerPort;
        int metricsPort = options.MetricsPort == 0 ? Ports.FindFree() : options.MetricsPort;
        var listenAddress = IPAddress.Parse(options.ListenAddress);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(listenAddress, peerPort, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Listen(listenAddress, metricsPort, listen => listen.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddPeerTransport(inbox);
        var app = builder.Build();
        app.MapPeerTransport();
        app.MapMetrics();
        try
        {
            await app.StartAsync(ct);
        }
        catch (Exception e) when (Ports.IsAddressInUse(e))
        {
            await app.DisposeAsync();
            throw new DtrainException($"cannot start the worker's endpoints: {e.Message}", e);
        }
        return new WorkerEndpoint(app,
            $"http://{options.AdvertiseHost}:{peerPort}", $"http://{options.AdvertiseHost}:{metricsPort}/metrics");
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
