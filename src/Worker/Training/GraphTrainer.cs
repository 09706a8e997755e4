using System.Diagnostics;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Dtrain.Collectives;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Contracts.Randomness;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Sampling;
using Dtrain.Graph.Service;
using Dtrain.Graph.Storage;
using Dtrain.Models.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Worker.Training;

/// <summary>
/// Data-parallel GraphSAGE on a partitioned graph (`--model graphsage`), as DistDGL trains: rank r holds
/// partition r and serves sampling and feature requests for it; each step it samples a mini-batch of its own
/// training nodes across all partitions, runs forward and backward, and averages gradients with the other ranks.
/// Every rank takes the same number of steps per epoch (the largest count of any rank, smaller shards wrapping
/// around), so no rank waits in an all-reduce that another never joins.
/// </summary>
public sealed class GraphTrainer(Communicator comm, JobSpec job, Device device, GraphPartition partition, GraphPeers peers)
{
    public const int HiddenWidth = 64;
    private const long BatchStream = 11, SampleStream = 12, EvaluationStream = 13;
    private const int EvaluationBatch = 1024;

    public async Task<TrainingResult> TrainAsync(IProgress<StepReport>? progress, CancellationToken ct)
    {
        var local = new LocalPartition(partition);
        peers.Served.Serve(local);
        var sources = Enumerable.Range(0, comm.Size)
            .Select(p => p == comm.Rank ? local : (IPartitionSource)peers.Connect(p, partition.FeatureDim))
            .ToArray();
        try
        {
            var cache = job.FeatureCache > 0 ? new FeatureCache(job.FeatureCache, partition.FeatureDim) : null;
            var sampler = new MiniBatchSampler(partition.Book, sources, new SamplingOptions(job.FanoutList()!), new FeatureFetcher(partition.Book, local, sources, cache));
            return await TrainAsync(sampler, progress, ct);
        }
        finally
        {
            foreach (var remote in sources.OfType<IDisposable>()) remote.Dispose();
        }
    }

    private async Task<TrainingResult> TrainAsync(MiniBatchSampler sampler, IProgress<StepReport>? progress, CancellationToken ct)
    {
        await CheckSamePartitioningAsync(ct);
        var trainNodes = partition.NodesIn(NodeSplit.Train);
        if (trainNodes.Length == 0)
        {
            throw new DtrainException($"partition {partition.Id} owns no training nodes; partition the graph into fewer parts");
        }
        int batchSize = Math.Min(job.BatchSize, trainNodes.Length);
        int batchesPerEpoch = await LargestAsync((trainNodes.Length + batchSize - 1) / batchSize, ct);
        int layers = job.FanoutList()!.Length;
        using var model = TrainingSteps.CreateSeeded(job.Seed, () => new GraphSage(partition.FeatureDim, HiddenWidth, partition.ClassCount, layers));
        model.to(device);
        using var optimizer = await ReplicatedOptimizer.CreateAsync(model, comm, job, ct);
        string rank = comm.Rank.ToString();

        double loss = double.NaN;
        int[] order = [];
        for (int step = 0; step < job.Steps; step++)
        {
            long started = Stopwatch.GetTimestamp();
            int epoch = step / batchesPerEpoch, index = step % batchesPerEpoch;
            if (index == 0) order = Shuffled(trainNodes, CounterRandom.Key(job.Seed, BatchStream, (long)epoch * comm.Size + comm.Rank));
            // Positions wrap around the shard, so a batch is always full and its nodes distinct.
            var seeds = Enumerable.Range(index * batchSize, batchSize).Select(i => order[i % order.Length]).ToArray();
            var batch = await sampler.SampleAsync(seeds, CounterRandom.Key(job.Seed, SampleStream, (long)step * comm.Size + comm.Rank), ct);
            loss = ComputeGradients(model, batch);
            await optimizer.StepAsync(ct);
            TrainingSteps.Finished(progress, rank, step, started, batchSize, loss);
        }

        var (finalLoss, accuracy) = await EvaluateAsync(model, sampler, loss, ct);
        return TrainingResult.Of(finalLoss, accuracy, TrainingSteps.Flatten(model));
    }

    private double ComputeGradients(GraphSage model, MiniBatch batch)
    {
        using var scope = NewDisposeScope();
        model.zero_grad();
        var loss = nn.functional.cross_entropy(Forward(model, batch), Labels(batch.Seeds));
        loss.backward();
        return loss.item<float>();
    }

    /// <summary>Accuracy over every partition's test nodes and the mean last-step loss, in one all-reduce.</summary>
    private async Task<(double Loss, double Accuracy)> EvaluateAsync(GraphSage model, MiniBatchSampler sampler, double lastLoss, CancellationToken ct)
    {
        var testNodes = partition.NodesIn(NodeSplit.Test);
        long correct = 0;
        for (int start = 0; start < testNodes.Length; start += EvaluationBatch)
        {
            var seeds = testNodes[start..Math.Min(testNodes.Length, start + EvaluationBatch)];
            var batch = await sampler.SampleAsync(seeds, CounterRandom.Key(job.Seed, EvaluationStream, start), ct);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            correct += Forward(model, batch).argmax(1).eq(Labels(seeds)).sum().item<long>();
        }
        // This all-reduce is also the barrier that keeps every sampling service up until no rank needs it.
        var totals = new[] { correct, testNodes.Length, lastLoss };
        await comm.AllReduceAsync<double>(totals, Collectives.ReduceOp.Sum, ct);
        return (totals[2] / comm.Size, totals[1] > 0 ? totals[0] / totals[1] : double.NaN);
    }

    private Tensor Forward(GraphSage model, MiniBatch batch)
    {
        var inputs = tensor(batch.InputFeatures, [batch.InputNodes.Length, batch.FeatureDim]).to(device);
        var flows = batch.Blocks.Select(block => new MessageFlow(block.DestinationCount,
            tensor(block.EdgeSources).to(int64).to(device), tensor(block.EdgeDestinations).to(int64).to(device))).ToArray();
        return model.forward(inputs, flows);
    }

    private Tensor Labels(int[] seeds) =>
        tensor(seeds.Select(node => (long)partition.Labels[node - partition.FirstNode]).ToArray()).to(device);

    private static int[] Shuffled(int[] nodes, ulong key)
    {
        var order = nodes.ToArray();
        new CounterRandom(key).Shuffle<int>(order);
        return order;
    }

    /// <summary>
    /// Sampling routes every node by the partition book, so all ranks must hold partitions of one partitioning:
    /// compares a hash of every rank's book in one all-reduce of (hash, -hash) under max.
    /// </summary>
    private async Task CheckSamePartitioningAsync(CancellationToken ct)
    {
        long hash = (long)(XxHash64.HashToUInt64(MemoryMarshal.AsBytes(partition.Book.Boundaries.AsSpan())) >> 2);
        var extremes = new[] { hash, -hash };
        await comm.AllReduceAsync<long>(extremes, Collectives.ReduceOp.Max, ct);
        if (extremes[0] != -extremes[1])
        {
            throw new DtrainException("the workers hold partitions of different partitionings (their partition books differ); every worker must load the same partitioned graph");
        }
    }

    private async Task<int> LargestAsync(int value, CancellationToken ct)
    {
        var buffer = new long[] { value };
        await comm.AllReduceAsync<long>(buffer, Collectives.ReduceOp.Max, ct);
        return (int)buffer[0];
    }
}
