using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts.Hosting;
using Microsoft.AspNetCore.Builder;
using Prometheus;

namespace Dtrain.Worker;

/// <summary>The worker's own server: the peer endpoint other ranks stream collective messages to, and /metrics.</summary>
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
        int peerPort = options.PeerPort == 0 ? Ports.FindFree() : options.PeerPort;
        int metricsPort = options.MetricsPort == 0 ? Ports.FindFree() : options.MetricsPort;
        var builder = GrpcWebHost.CreateBuilder(options.ListenAddress, peerPort, metricsPort);
        builder.Services.AddPeerTransport(inbox);
        var app = builder.Build();
        app.MapPeerTransport();
        app.MapMetrics();
        await GrpcWebHost.StartAsync(app, "the worker's endpoints", ct);
        return new WorkerEndpoint(app,
            $"http://{options.AdvertiseHost}:{peerPort}", $"http://{options.AdvertiseHost}:{metricsPort}/metrics");
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
