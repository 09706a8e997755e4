using Dtrain.Collectives;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Worker;

namespace Dtrain.Tests.Collectives;

/// <summary>N ranks in this process, each with its own real Kestrel peer endpoint on loopback and a gRPC communicator.</summary>
internal sealed class GrpcGroup : IAsyncDisposable
{
    private GrpcGroup(IReadOnlyList<WorkerEndpoint> endpoints, IReadOnlyList<GrpcCommunicator> communicators)
    {
        Endpoints = endpoints;
        Communicators = communicators;
    }

    public IReadOnlyList<WorkerEndpoint> Endpoints { get; }

    public IReadOnlyList<GrpcCommunicator> Communicators { get; }

    public static async Task<GrpcGroup> StartAsync(int ranks, GrpcTransportOptions? options = null, string token = "test-token")
    {
        var inboxes = Enumerable.Range(0, ranks).Select(_ => new PeerInbox(token)).ToArray();
        var endpoints = new List<WorkerEndpoint>();
        foreach (var inbox in inboxes)
        {
            endpoints.Add(await WorkerEndpoint.StartAsync(inbox, new WorkerOptions { Coordinator = "unused", JobToken = token }, default));
        }
        var addresses = endpoints.Select(e => e.PeerAddress).ToArray();
        var communicators = Enumerable.Range(0, ranks)
            .Select(rank => new GrpcCommunicator(rank, addresses, inboxes[rank], token, options))
            .ToArray();
        return new GrpcGroup(endpoints, communicators);
    }

    public Task AllReduceAsync(float[][] buffers, ReduceOp op) =>
        Task.WhenAll(Communicators.Select(comm => Task.Run(() => comm.AllReduceAsync(buffers[comm.Rank], op))));

    public async ValueTask DisposeAsync()
    {
        foreach (var comm in Communicators) await comm.DisposeAsync();
        foreach (var endpoint in Endpoints) await endpoint.DisposeAsync();
    }
}
