using Dtrain.Contracts.Network;
using Dtrain.Graph.Service;

namespace Dtrain.Training;

/// <summary>
/// How a graph trainer reaches the other partitions: each is served at its owner's peer endpoint (the shard map
/// says who owns which). Also the partition this worker serves, which its endpoint answers for once the trainer
/// has loaded it.
/// </summary>
/// <param name="servedAt">Partition p's server: the peer address of its owner.</param>
public sealed class GraphPeers(ServedPartitions served, IReadOnlyList<string> servedAt, string jobToken, GrpcTls tls, TimeSpan timeout)
{
    public ServedPartitions Served { get; } = served;

    public RemotePartition Connect(int partition, int featureDim) =>
        new(partition, featureDim, servedAt[partition], jobToken, tls, timeout);
}
