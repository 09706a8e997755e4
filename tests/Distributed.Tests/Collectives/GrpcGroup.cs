using Dtrain.Collectives;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts.Network;
using Dtrain.Graph.Service;
using Dtrain.Hosting;

namespace Dtrain.Tests.Collectives;

/// <summary>
/// N ranks in this process, each with its own real Kestrel peer endpoint on loopback and a gRPC communicator. The
/// transport options' TLS serves each endpoint and is trusted by each transport. Each endpoint also serves a graph
/// partition, once a test hands it one (<see cref="Graphs"/>).
/// </summary>
internal sealed class GrpcGroup : IAsyncDisposable
{
    private GrpcGroup(
        IReadOnlyList<WorkerEndpoint> endpoints, IReadOnlyList<ServedPartitions> graphs, IReadOnlyList<PeerInbox> inboxes, IReadOnlyList<GrpcTransport> transports,
        IReadOnlyList<Communicator> communicators)
    {
        Endpoints = endpoints;
        Graphs = graphs;
        Inboxes = inboxes;
        Transports = transports;
        Communicators = communicators;
    }

    public IReadOnlyList<WorkerEndpoint> Endpoints { get; }

    /// <summary>The graph partition each rank's endpoint serves.</summary>
    public IReadOnlyList<ServedPartitions> Graphs { get; }

    public IReadOnlyList<PeerInbox> Inboxes { get; }

    public IReadOnlyList<GrpcTransport> Transports { get; }

    public IReadOnlyList<Communicator> Communicators { get; }

    public static async Task<GrpcGroup> StartAsync(
        int ranks, CommunicatorOptions? options = null, GrpcTransportOptions? transportOptions = null, string token = "test-token",
        ConnectionLimits? connections = null)
    {
        var inboxes = Enumerable.Range(0, ranks).Select(_ => new PeerInbox(token, System.Net.IPAddress.Loopback)).ToArray();
        var endpoints = new List<WorkerEndpoint>();
        var graphs = inboxes.Select(inbox => new ServedPartitions(inbox.Admits)).ToArray();
        for (int rank = 0; rank < ranks; rank++)
        {
            endpoints.Add(await WorkerEndpoint.StartAsync(
                inboxes[rank], "127.0.0.1", "127.0.0.1", 0, 0, transportOptions?.Tls ?? GrpcTls.None, [new SamplingEndpoint(graphs[rank])],
                connections ?? ConnectionLimits.Default, default));
        }
        var addresses = endpoints.Select(e => e.PeerAddress).ToArray();
        var transports = Enumerable.Range(0, ranks).Select(rank => new GrpcTransport(rank, addresses, inboxes[rank], token, transportOptions)).ToArray();
        return new GrpcGroup(endpoints, graphs, inboxes, transports, transports.Select(t => GrpcCommunicator.CreateWorld(t, options)).ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var comm in Communicators) await comm.DisposeAsync();
        foreach (var endpoint in Endpoints) await endpoint.DisposeAsync();
        foreach (var inbox in Inboxes) inbox.Dispose();
    }
}
