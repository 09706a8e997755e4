using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts.Network;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Sampling;
using Dtrain.Graph.Service;
using Dtrain.Hosting;
using Dtrain.Worker;

namespace Dtrain.Tests.Graph.Sampling;

/// <summary>
/// One real worker endpoint (Kestrel on loopback) per partition, each serving its partition over
/// protos/sampling.proto, and a mini-batch sampler as any rank would build it: its own partition local, the
/// others remote.
/// </summary>
internal sealed class SamplingCluster : IAsyncDisposable
{
    public const string Token = "sampling-test-token";
    private readonly List<RemotePartition> remotes = [];

    private SamplingCluster(PartitionedGraph graph, IReadOnlyList<WorkerEndpoint> endpoints) => (Graph, Endpoints) = (graph, endpoints);

    public PartitionedGraph Graph { get; }

    public IReadOnlyList<WorkerEndpoint> Endpoints { get; }

    public static async Task<SamplingCluster> StartAsync(PartitionedGraph graph)
    {
        var endpoints = new List<WorkerEndpoint>();
        foreach (var partition in graph.Partitions)
        {
            var inbox = new PeerInbox(Token);
            var sampling = new SamplingEndpoint(new ServedPartitions(inbox.Admits));
            var endpoint = await WorkerEndpoint.StartAsync(inbox, "127.0.0.1", "127.0.0.1", 0, 0, GrpcTls.None, [sampling], ConnectionLimits.Default, default);
            sampling.Served.Serve([new LocalPartition(partition)]);
            endpoints.Add(endpoint);
        }
        return new SamplingCluster(graph, endpoints);
    }

    public RemotePartition Remote(int partition, string token = Token)
    {
        var remote = new RemotePartition(partition, Graph.Partitions[partition].FeatureDim, Endpoints[partition].PeerAddress, token, GrpcTls.None, TimeSpan.FromSeconds(30));
        remotes.Add(remote);
        return remote;
    }

    /// <summary>The sampler of rank <paramref name="rank"/>: partition rank local, every other one over gRPC.</summary>
    public MiniBatchSampler SamplerOf(int rank, SamplingOptions options, FeatureCache? cache = null)
    {
        var local = new LocalPartition(Graph.Partitions[rank]);
        var sources = Enumerable.Range(0, Graph.Partitions.Length)
            .Select(p => p == rank ? local : (IPartitionSource)Remote(p))
            .ToArray();
        return new MiniBatchSampler(Graph.Book, sources, options, new FeatureFetcher(Graph.Book, sources, cache));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var remote in remotes) remote.Dispose();
        foreach (var endpoint in Endpoints) await endpoint.DisposeAsync();
    }
}
