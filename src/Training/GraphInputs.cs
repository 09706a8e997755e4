using Dtrain.Contracts.Jobs;
using Dtrain.Graph.Generators;
using Dtrain.Graph.Partitioning;

namespace Dtrain.Training;

/// <summary>The partitioned graph of a graphsage job: each partition's size, for the shard map, and the partitions a rank holds.</summary>
public sealed class GraphInputs
{
    private readonly Func<int, GraphPartition> load;

    private GraphInputs(long[] edgeCounts, Func<int, GraphPartition> load) => (EdgeCounts, this.load) = (edgeCounts, load);

    /// <summary>Each partition's in-edges: the sampling work its owner serves.</summary>
    public IReadOnlyList<long> EdgeCounts { get; }

    public GraphPartition Load(int partition) => load(partition);

    /// <summary>
    /// The job's partitioned graph directory, which must hold at least one partition per worker. Without one, the default
    /// graph: the stochastic block model generated from the job's seed and cut by METIS into one part per worker.
    /// Every worker computes the same partitioning (both are deterministic) and keeps the part it is given, which
    /// costs each a second or so and needs no shared files.
    /// </summary>
    public static GraphInputs Open(JobSpec job, int worldSize)
    {
        if (job.Graph.Dir == "")
        {
            var graph = StochasticBlockModel.Generate(new StochasticBlockModelOptions { Seed = job.Seed });
            var partitions = GraphPartitioner.Partition(graph, PartitionMethod.Metis, worldSize, job.Seed).Partitions;
            return new(partitions.Select(partition => partition.EdgeCount).ToArray(), partition => partitions[partition]);
        }
        var manifest = PartitionStore.ReadManifest(job.Graph.Dir);
        PartitionStore.CheckPartitionCount(job.Graph.Dir, manifest, worldSize);
        return new(manifest.Partitions.Select(entry => entry.EdgeCount).ToArray(), partition => PartitionStore.ReadPartition(job.Graph.Dir, partition));
    }
}
