using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts.Hosting;
using Dtrain.Graph.Service;
using Microsoft.AspNetCore.Builder;
using Prometheus;

namespace Dtrain.Worker;

/// <summary>
/// The worker's own server: the peer endpoint other ranks stream collective messages to and ask for graph samples
/// and features (once a graph job has loaded its partition), and /metrics.
/// </summary>
public sealed class WorkerEndpoint : IAsyncDisposable
{
    private readonly WebApplication app;

    private WorkerEndpoint(WebApplication app, ServedPartition graph, string peerAddress, string metricsAddress)
    {
        this.app = app;
        Graph = graph;
        PeerAddress = peerAddress;
        MetricsAddress = metricsAddress;
    }

    public string PeerAddress { get; }

    /// <summary>The graph partition the sampling service answers for, once a trainer serves one.</summary>
    public ServedPartition Graph { get; }

    public string MetricsAddress { get; }

    /// <param name="inbox">Where the frames peers send land.</param>
    /// <param name="listenAddress">Address to listen on.</param>
    /// <param name="advertiseHost">Host name or IP under which peers and Prometheus reach this worker.</param>
    /// <param name="peerPort">Port of the peer endpoint; 0 picks a free one.</param>
    /// <param name="metricsPort">Port of /metrics; 0 picks a free one.</param>
    /// <param name="tls">The certificate the peer endpoint presents, if any.</param>
    /// <param name="ct">Cancels the start.</param>
    public static async Task<WorkerEndpoint> StartAsync(
        PeerInbox inbox, string listenAddress, string advertiseHost, int peerPort, int metricsPort, GrpcTls tls, CancellationToken ct)
    {
        peerPort = peerPort == 0 ? Ports.FindFree() : peerPort;
        metricsPort = metricsPort == 0 ? Ports.FindFree() : metricsPort;
        var builder = GrpcWebHost.CreateBuilder(listenAddress, peerPort, metricsPort, tls);
        var graph = new ServedPartition(inbox.Admits);
        builder.Services.AddPeerTransport(inbox);
        builder.Services.AddGraphSampling(graph);
        var app = builder.Build();
        app.MapPeerTransport();
        app.MapGraphSampling();
        app.MapMetrics();
        await GrpcWebHost.StartAsync(app, "the worker's endpoints", ct);
        return new WorkerEndpoint(app, graph,
            $"{tls.Scheme}://{advertiseHost}:{peerPort}", $"http://{advertiseHost}:{metricsPort}/metrics");
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
