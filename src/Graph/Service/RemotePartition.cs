using Dtrain.Contracts;
using Dtrain.Contracts.Network;
using Dtrain.Contracts.Sampling;
using Dtrain.Graph.Sampling;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Graph.Service;

/// <summary>A peer's partition, reached through its sampling service (the client side of protos/sampling.proto).</summary>
public sealed class RemotePartition : IPartitionSource, IDisposable
{
    private readonly GrpcChannel channel;
    private readonly GraphSampling.GraphSamplingClient client;
    private readonly Metadata headers;
    private readonly TimeSpan timeout;
    private readonly string address;

    /// <param name="partitionId">The partition the peer serves.</param>
    /// <param name="featureDim">Feature dimension of the graph.</param>
    /// <param name="address">The peer's endpoint, e.g. http://host:port.</param>
    /// <param name="jobToken">Presented with every call.</param>
    /// <param name="tls">The CA trusted in an https:// address.</param>
    /// <param name="timeout">Longest wait for one answer, including the peer's loading its partition.</param>
    public RemotePartition(int partitionId, int featureDim, string address, string jobToken, GrpcTls tls, TimeSpan timeout)
    {
        (PartitionId, FeatureDim, this.address, this.timeout) = (partitionId, featureDim, address, timeout);
        channel = tls.CreateChannel(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = SamplingServiceExtensions.MaxMessageBytes,
            MaxSendMessageSize = SamplingServiceExtensions.MaxMessageBytes,
            // A call this worker cancels (its epoch ended mid-batch) is a cancellation, which leaves the epoch, as
            // everywhere else; as an RpcException it would fail the job.
            ThrowOperationCanceledOnCancellation = true,
        });
        client = new GraphSampling.GraphSamplingClient(channel);
        headers = new Metadata { { SamplingService.JobTokenHeader, jobToken } };
    }

    public int PartitionId { get; }

    public int FeatureDim { get; }

    public async Task<SampledNeighbours> SampleAsync(int[] seeds, HopRequest hop, CancellationToken ct)
    {
        var request = new SampleRequest
        {
            Partition = PartitionId, Seeds = SampleWire.Pack<int>(seeds), Fanout = hop.Fanout, Key = hop.Key, Weighted = hop.Weighted,
            HoldoutKey = hop.Holdout?.Key ?? 0, HoldoutFraction = hop.Holdout?.Fraction ?? 0,
        };
        var reply = await CallAsync(() => client.SampleNeighboursAsync(request, headers, DateTime.UtcNow + timeout, ct).ResponseAsync, "sample neighbours");
        var counts = SampleWire.Unpack<int>(reply.Counts);
        var neighbours = SampleWire.Unpack<int>(reply.Neighbours);
        if (counts is null || neighbours is null || counts.Length != seeds.Length || counts.Sum(c => (long)c) != neighbours.Length)
        {
            throw new DtrainException($"partition {PartitionId} at {address} sent a malformed sampling reply");
        }
        return new SampledNeighbours(counts, neighbours);
    }

    public async Task<float[]> FetchFeaturesAsync(int[] nodes, CancellationToken ct)
    {
        var request = new FeatureRequest { Partition = PartitionId, Nodes = SampleWire.Pack<int>(nodes) };
        var reply = await CallAsync(() => client.FetchFeaturesAsync(request, headers, DateTime.UtcNow + timeout, ct).ResponseAsync, "fetch features");
        var rows = SampleWire.Unpack<float>(reply.Features);
        if (rows is null || reply.FeatureDim != FeatureDim || rows.LongLength != (long)nodes.Length * FeatureDim)
        {
            throw new DtrainException($"partition {PartitionId} at {address} sent a malformed feature reply");
        }
        return rows;
    }

    private async Task<T> CallAsync<T>(Func<Task<T>> call, string what)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            string reason = e.StatusCode == StatusCode.DeadlineExceeded ? $"no answer within {timeout.TotalSeconds:0.#} s" : e.Status.Detail;
            throw new PartitionUnreachableException($"cannot {what} on partition {PartitionId} at {address}: {reason}");
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            throw new DtrainException($"cannot {what} on partition {PartitionId} at {address}: {e.Status.Detail}");
        }
    }

    public void Dispose() => channel.Dispose();
}
