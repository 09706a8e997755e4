using Dtrain.Graph.Storage;

namespace Dtrain.Graph.Partitioning;

/// <summary>
/// A graph split into partitions. <see cref="Relabelled"/> is the whole graph in the new node IDs, the
/// single-process reference that the partitions together must reproduce; <see cref="NewIds"/>[v] is the new ID of
/// original node v.
/// </summary>
public sealed record PartitionedGraph(PartitionBook Book, GraphData Relabelled, int[] NewIds, GraphPartition[] Partitions);
