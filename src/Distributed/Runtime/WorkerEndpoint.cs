using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts.Network;
using Dtrain.Hosting;
using Microsoft.AspNetCore.Builder;
using Prometheus;

namespace Dtrain.Distributed.Runtime;

/// <summary>
/// The worker's own server: the peer endpoint other ranks stream collective messages to (and whatever
/// <see cref="IEndpointService"/>s the job adds), and /metrics.
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

    /// <param name="inbox">Where the frames peers send land.</param>
    /// <param name="listenAddress">Address to listen on.</param>
    /// <param name="advertiseHost">Host name or IP under which peers and Prometheus reach this worker.</param>
    /// <param name="peerPort">Port of the peer endpoint; 0 picks a free one.</param>
    /// <param name="metricsPort">Port of /metrics; 0 picks a free one.</param>
    /// <param name="tls">The certificate the peer endpoint presents, if any.</param>
    /// <param name="services">Served beside the peer transport.</param>
    /// <param name="connections">How long both endpoints keep a connection that carries no request.</param>
    /// <param name="ct">Cancels the start.</param>
    public static async Task<WorkerEndpoint> StartAsync(
        PeerInbox inbox, string listenAddress, string advertiseHost, int peerPort, int metricsPort, GrpcTls tls,
        IReadOnlyList<IEndpointService> services, ConnectionLimits connections, CancellationToken ct)
    {
        // Port 0 is bound as such, and the port the kernel gave is advertised: picking a free port first and binding it
        // after would race with every other worker starting on the host.
        var builder = GrpcWebHost.CreateBuilder(listenAddress, peerPort, metricsPort, tls, connections, out var ports);
        builder.Services.AddPeerTransport(inbox);
        foreach (var service in services) service.Register(builder);
        var app = builder.Build();
        app.MapPeerTransport();
        foreach (var service in services) service.Map(app);
        app.MapMetrics();
        await GrpcWebHost.StartAsync(app, "the worker's endpoints", ct);
        return new WorkerEndpoint(app, $"{tls.Scheme}://{advertiseHost}:{ports.Grpc}", $"http://{advertiseHost}:{ports.Metrics}/metrics");
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
