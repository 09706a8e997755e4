using Dtrain.Contracts.Jobs;
using Dtrain.Graph.Generators;
using Dtrain.Graph.Partitioning;

namespace Dtrain.Worker.Training;

/// <summary>Which graph partition a rank of a graphsage job trains on.</summary>
public static class GraphInputs
{
    /// <summary>
    /// Partition <paramref name="rank"/> of the job's partitioned graph directory. Without one, the default graph:
    /// the stochastic block model generated from the job's seed and cut by METIS into one part per worker. Every
    /// worker computes the same partitioning (both are deterministic) and keeps its own part, which costs each a
    /// second or so and needs no shared files.
    /// </summary>
    public static GraphPartition LoadPartition(JobSpec job, int rank, int worldSize)
    {
        if (job.Graph == "")
        {
            var graph = StochasticBlockModel.Generate(new StochasticBlockModelOptions { Seed = job.Seed });
            return GraphPartitioner.Partition(graph, PartitionMethod.Metis, worldSize, job.Seed).Partitions[rank];
        }
        var manifest = PartitionStore.ReadManifest(job.Graph);
        PartitionStore.CheckPartitionCount(job.Graph, manifest, worldSize);
        return PartitionStore.ReadPartition(job.Graph, rank);
    }
}
