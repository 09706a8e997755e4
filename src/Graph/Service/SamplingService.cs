using Dtrain.Contracts;
using Dtrain.Contracts.Sampling;
using Dtrain.Graph.Sampling;
using Dtrain.Telemetry;
using Grpc.Core;

namespace Dtrain.Graph.Service;

/// <summary>
/// The server side of protos/sampling.proto: checks the caller's token and the request, then delegates to the
/// served <see cref="LocalPartition"/> it names. Bad requests (a node this partition does not own, a fanout of 0) come
/// back as InvalidArgument with the partition's own message.
/// </summary>
public sealed class SamplingService(ServedPartitions served) : GraphSampling.GraphSamplingBase
{
    public const string JobTokenHeader = "dtrain-job-token";

    public override async Task<SampleReply> SampleNeighbours(SampleRequest request, ServerCallContext context)
    {
        var partition = await AdmitAsync(request.Partition, context);
        var seeds = SampleWire.Unpack<int>(request.Seeds) ?? throw Invalid("seeds are not a whole number of int32 values");
        var sampled = Answer(() => partition.Sample(seeds, new HopRequest(request.Fanout, request.Key, request.Weighted,
            request.HoldoutFraction > 0 ? new EdgeHoldout(request.HoldoutKey, request.HoldoutFraction) : null)));
        DtrainMetrics.GraphSamplingRequests.WithLabels("sample").Inc();
        return new SampleReply { Counts = SampleWire.Pack<int>(sampled.Counts), Neighbours = SampleWire.Pack<int>(sampled.Neighbours) };
    }

    public override async Task<FeatureReply> FetchFeatures(FeatureRequest request, ServerCallContext context)
    {
        var partition = await AdmitAsync(request.Partition, context);
        var nodes = SampleWire.Unpack<int>(request.Nodes) ?? throw Invalid("nodes are not a whole number of int32 values");
        var rows = Answer(() => partition.Features(nodes));
        DtrainMetrics.GraphSamplingRequests.WithLabels("features").Inc();
        return new FeatureReply { FeatureDim = partition.FeatureDim, Features = SampleWire.Pack<float>(rows) };
    }

    private async Task<LocalPartition> AdmitAsync(int partitionId, ServerCallContext context)
    {
        if (!served.Admits(context.RequestHeaders.GetValue(JobTokenHeader)))
        {
            DtrainMetrics.RejectedConnections.WithLabels("sampling", "token").Inc();
            throw new RpcException(new Status(StatusCode.Unauthenticated, "this caller does not hold the job's token"));
        }
        var partitions = await served.WhenServingAsync(context.CancellationToken);
        if (!partitions.TryGetValue(partitionId, out var partition))
        {
            string held = $"{(partitions.Count == 1 ? "partition" : "partitions")} {string.Join(", ", partitions.Keys.Order())}";
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"this worker serves {held}, not {partitionId}"));
        }
        return partition;
    }

    private static T Answer<T>(Func<T> compute)
    {
        try
        {
            return compute();
        }
        catch (DtrainException e)
        {
            throw Invalid(e.Message);
        }
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
