using Dtrain.Contracts.Hosting;
using Dtrain.Graph.Service;

namespace Dtrain.Worker.Training;

/// <summary>
/// How a graph trainer reaches the other partitions: rank p serves partition p at its peer endpoint. Also the
/// partition this worker serves, which its endpoint answers for once the trainer has loaded it.
/// </summary>
public sealed class GraphPeers(ServedPartition served, IReadOnlyList<string> peerAddresses, string jobToken, GrpcTls tls, TimeSpan timeout)
{
    public ServedPartition Served { get; } = served;

    public RemotePartition Connect(int partition, int featureDim) =>
        new(partition, featureDim, peerAddresses[partition], jobToken, tls, timeout);
}
