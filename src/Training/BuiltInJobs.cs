using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Distributed;
using Dtrain.Distributed.Checkpoints;
using Dtrain.Graph.Service;
using Dtrain.Contracts.Placement;
using Dtrain.TensorParallel.Grid;
using Dtrain.Training.GraphTasks;

namespace Dtrain.Training;

/// <summary>
/// From a job to its trainer: the one place that reads the job's model and builds what trains it, each piece
/// placed through the coordinator's shard map (Shampoo's blocks, the grid's cells, the graph's partitions). The
/// optimizer comes from <see cref="ReplicatedOptimizer"/> (data-parallel) or the tensor-parallel trainer.
/// </summary>
public static class BuiltInJobs
{
    /// <summary>
    /// What keeps the job's built-in model from training, beyond <see cref="JobSpec.Problems"/>: found by the launcher
    /// before any worker starts, instead of by every worker once it did.
    /// </summary>
    public static IEnumerable<string> Problems(JobSpec job)
    {
        // As DistributedSampler: each rank needs a whole batch of its share of the training set.
        const int samples = Models.Data.SyntheticClassification.DefaultTrainSize;
        long perStep = job.Model switch
        {
            ModelKind.Mlp => (long)job.BatchSize * job.Workers,
            ModelKind.CannonMlp => job.BatchSize,
            _ => 0,
        };
        if (perStep > samples)
        {
            string ranks = job.Model == ModelKind.Mlp ? $" on {job.Workers} workers" : "";
            yield return $"batch_size {job.BatchSize}{ranks} takes {perStep} samples a step, more than the {samples} training samples of model {JobJson.Name(job.Model)}";
        }
    }

    /// <summary>Trains the job's model in one epoch of <paramref name="context"/>; a graph job serves its partitions through <paramref name="served"/>.</summary>
    public static async Task<TrainingResult> TrainAsync(DistributedContext context, ServedPartitions served, CancellationToken ct)
    {
        var (job, comm, device, epoch) = (context.Job, context.Communicator, context.Device, context.Epoch);
        var checkpoint = new DataParallelCheckpoint(job, context.Checkpoints.Report);
        var shardMap = context.ShardMap;
        switch (job.Model)
        {
            case ModelKind.CannonMlp:
                return await new TensorParallelTrainer(comm, job, device, new TensorParallelCheckpoint(job, checkpoint.Report), shardMap)
                    .TrainAsync(context.Progress, ct);
            case ModelKind.Graphsage:
                try
                {
                    return await (await GraphTrainerAsync(context, served, checkpoint, shardMap, ct)).TrainAsync(context.Progress, ct);
                }
                finally
                {
                    served.Withdraw();
                }
            default:
                return await new DataParallelTrainer(comm, job, device, checkpoint, shardMap).TrainAsync(context.Progress, ct);
        }
    }

    /// <summary>
    /// GraphSAGE on the partitions the shard map gives this rank in its epoch (balanced by edges; one or several),
    /// reaching the others at their owners' peer endpoints.
    /// </summary>
    private static async Task<GraphTrainer> GraphTrainerAsync(
        DistributedContext context, ServedPartitions served, DataParallelCheckpoint checkpoint, IShardPlacement shardMap, CancellationToken ct)
    {
        var (job, epoch) = (context.Job, context.Epoch);
        var graph = GraphInputs.Open(job, epoch.WorldSize);
        var owners = await shardMap.PlaceAsync(new ShardedWork(ShardKind.GraphPartitions, graph.EdgeCounts, epoch.WorldSize), ct);
        var held = Enumerable.Range(0, owners.Length).Where(partition => owners[partition] == epoch.Rank).ToArray();
        if (held.Length == 0)
        {
            throw new DtrainException($"the shard map gave rank {epoch.Rank} none of the graph's {owners.Length} partitions");
        }
        var servedAt = owners.Select(owner => context.PeerAddresses[owner]).ToArray();
        var graphPeers = new GraphPeers(served, servedAt, context.Options.JobToken, context.Options.Tls, TimeSpan.FromSeconds(job.CollectiveTimeoutSeconds));
        return new GraphTrainer(context.Communicator, job, context.Device, new HeldPartitions(held.Select(graph.Load)), graphPeers, checkpoint, shardMap);
    }
}
