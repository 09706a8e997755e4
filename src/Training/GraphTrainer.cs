using System.IO.Hashing;
using System.Runtime.InteropServices;
using Dtrain.Collectives;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Contracts.Randomness;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Sampling;
using Dtrain.Models.Graph;
using Dtrain.Contracts.Placement;
using Dtrain.Training.GraphTasks;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Training;

/// <summary>
/// Data-parallel GraphSAGE on a partitioned graph (`--model graphsage`), as DistDGL trains: each rank holds one
/// or more partitions and serves sampling and feature requests for them; each step it samples a mini-batch of its
/// own training examples (nodes, or edges for link prediction) across all partitions, runs forward and backward,
/// and averages gradients with the other ranks. Every rank takes the same number of steps per epoch (the largest
/// count of any rank, smaller shards wrapping around), so no rank waits in an all-reduce another never joins.
/// A rank's batches and samples are keyed by its first partition, not by its rank, so they follow the partitions
/// wherever the shard map puts them.
/// </summary>
/// <param name="checkpoint">Writes and loads the job's checkpoints; null for a job that takes none.</param>
/// <param name="placeBlocks">Places Shampoo's blocks (the coordinator's shard map); null places them on this rank.</param>
public sealed class GraphTrainer(
    Communicator comm, JobSpec job, Device device, HeldPartitions partitions, GraphPeers peers, DataParallelCheckpoint? checkpoint = null, IShardPlacement? placeBlocks = null)
{
    public const int HiddenWidth = 64;
    private const long BatchStream = 11, SampleStream = 12, EvaluationStream = 13;

    public async Task<TrainingResult> TrainAsync(IProgress<StepReport>? progress, CancellationToken ct)
    {
        IGraphTask task = job.Graph.Task == GraphTaskKind.Link
            ? new LinkPrediction(partitions, job.Seed, HiddenWidth, device)
            : new NodeClassification(partitions, device);
        var local = partitions.All.Select(partition => new LocalPartition(partition)).ToArray();
        peers.Served.Serve(local);
        var sources = Enumerable.Range(0, partitions.Book.PartitionCount)
            .Select(p => local.FirstOrDefault(held => held.PartitionId == p) ?? (IPartitionSource)peers.Connect(p, partitions.FeatureDim))
            .ToArray();
        try
        {
            var cache = job.Graph.FeatureCache > 0 ? new FeatureCache(job.Graph.FeatureCache, partitions.FeatureDim) : null;
            var options = new SamplingOptions(job.Graph.Fanouts, holdout: task.Holdout);
            var sampler = new MiniBatchSampler(partitions.Book, sources, options, new FeatureFetcher(partitions.Book, sources, cache));
            return await TrainAsync(task, sampler, progress, ct);
        }
        finally
        {
            foreach (var remote in sources.OfType<IDisposable>()) remote.Dispose();
        }
    }

    private async Task<TrainingResult> TrainAsync(IGraphTask task, MiniBatchSampler sampler, IProgress<StepReport>? progress, CancellationToken ct)
    {
        await CheckSamePartitioningAsync(ct);
        int examples = task.TrainingExampleCount;
        if (examples == 0)
        {
            string held = string.Join(", ", partitions.All.Select(partition => partition.Id));
            throw new DtrainException($"partition {held} owns no training examples; partition the graph into fewer parts");
        }
        int batchSize = Math.Min(job.BatchSize, examples);
        int batchesPerEpoch = await LargestAsync((examples + batchSize - 1) / batchSize, ct);
        int layers = job.Graph.Fanouts.Length;
        using var model = TrainingSteps.CreateSeeded(job.Seed, () => new GraphNetwork(job.Graph.Gnn, partitions.FeatureDim, HiddenWidth, task.OutputWidth, layers));
        model.to(device);
        using var optimizer = await ReplicatedOptimizer.CreateAsync(model, comm, job, ct, placeBlocks);
        int first = DataParallelCheckpoint.StartStep(checkpoint, job, model, optimizer);
        var loop = new TrainingLoop(job, comm.Rank, batchSize, checkpoint?.WriterOf(comm.Rank, comm.Size, model, optimizer), progress);

        // Random streams are numbered by partition: a rank draws from its first partition's, whichever rank it is.
        int streams = partitions.Book.PartitionCount, stream = partitions.First.Id;
        int[] order = [];
        int orderEpoch = -1;
        double loss = await loop.RunAsync(first, StepAsync, ct);

        var (finalLoss, accuracy) = await EvaluateAsync(task, model, sampler, loss, ct);
        return TrainingResult.Of(finalLoss, accuracy, TrainingSteps.Flatten(model));

        async Task<double> StepAsync(int step, CancellationToken token)
        {
            int epoch = step / batchesPerEpoch, index = step % batchesPerEpoch;
            if (epoch != orderEpoch)
            {
                order = Permutation(examples, CounterRandom.Key(job.Seed, BatchStream, (long)epoch * streams + stream));
                orderEpoch = epoch;
            }
            // Positions wrap around the shard, so a batch is always full and its examples distinct.
            var batchExamples = Enumerable.Range(index * batchSize, batchSize).Select(i => order[i % order.Length]).ToArray();
            ulong key = CounterRandom.Key(job.Seed, SampleStream, (long)step * streams + stream);
            var batch = task.TrainingBatch(batchExamples, key);
            using var sampled = await sampler.SampleAsync(batch.Seeds, key, token);
            double batchLoss = ComputeGradients(model, optimizer, sampled, batch);
            await optimizer.StepAsync(token);
            return batchLoss;
        }
    }

    private double ComputeGradients(GraphNetwork model, ReplicatedOptimizer optimizer, MiniBatch sampled, TrainingBatch batch)
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        var loss = batch.Loss(Forward(model, sampled));
        loss.backward();
        return loss.item<float>();
    }

    /// <summary>The share of every rank's held-out examples predicted right, and the mean last-step loss, in one all-reduce.</summary>
    private async Task<(double Loss, double Accuracy)> EvaluateAsync(IGraphTask task, GraphNetwork model, MiniBatchSampler sampler, double lastLoss, CancellationToken ct)
    {
        double correct = 0, total = 0;
        ulong key = CounterRandom.Key(job.Seed, EvaluationStream, partitions.First.Id);
        foreach (var batch in task.EvaluationBatches(key))
        {
            using var sampled = await sampler.SampleAsync(batch.Seeds, CounterRandom.Mix(key ^ (ulong)total), ct);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            correct += batch.Correct(Forward(model, sampled));
            total += batch.Examples;
        }
        // This all-reduce is also the barrier that keeps every sampling service up until no rank needs it.
        var totals = new[] { correct, total, lastLoss };
        await comm.AllReduceAsync<double>(totals, Collectives.ReduceOp.Sum, ct);
        return (totals[2] / comm.Size, totals[1] > 0 ? totals[0] / totals[1] : double.NaN);
    }

    private Tensor Forward(GraphNetwork model, MiniBatch batch)
    {
        var inputs = empty(batch.InputNodes.Length, batch.FeatureDim);
        inputs.data<float>().CopyFrom(batch.InputFeatures);
        inputs = inputs.to(device);
        var flows = batch.Blocks.Select(block => new MessageFlow(block.DestinationCount,
            tensor(block.EdgeSources).to(int64).to(device), tensor(block.EdgeDestinations).to(int64).to(device))).ToArray();
        return model.forward(inputs, flows);
    }

    private static int[] Permutation(int count, ulong key)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new CounterRandom(key).Shuffle<int>(order);
        return order;
    }

    /// <summary>
    /// Sampling routes every node by the partition book, so all ranks must hold partitions of one partitioning:
    /// compares a hash of every rank's book in one all-reduce of (hash, -hash) under max.
    /// </summary>
    private async Task CheckSamePartitioningAsync(CancellationToken ct)
    {
        long hash = (long)(XxHash64.HashToUInt64(MemoryMarshal.AsBytes(partitions.Book.Boundaries.AsSpan())) >> 2);
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
