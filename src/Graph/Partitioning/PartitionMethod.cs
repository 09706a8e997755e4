namespace Dtrain.Graph.Partitioning;

/// <summary>How nodes are assigned to partitions.</summary>
public enum PartitionMethod
{
    /// <summary>METIS k-way: few edges cut, nodes and training nodes balanced.</summary>
    Metis,

    /// <summary>Uniformly at random: balanced in expectation, cuts about (P - 1) / P of the edges.</summary>
    Random,
}
