namespace Dtrain.Contracts.Placement;

/// <summary>The kinds of work a job shards over its ranks.</summary>
public enum ShardKind
{
    /// <summary>Distributed Shampoo's preconditioner blocks, costed in bytes; a rank may hold any number.</summary>
    ShampooBlocks,
    /// <summary>The cells of Cannon's process grid, costed in bytes; one per rank.</summary>
    GridCells,
    /// <summary>A graph's partitions, costed in edges; a rank may hold several (a graph cut in more parts than workers).</summary>
    GraphPartitions,
}

/// <summary>
/// One kind of sharded work to place: each unit's cost, in unit order, and the ranks sharing the units. The kind
/// fixes what a cost counts and whether each rank holds exactly one unit.
/// </summary>
public sealed record ShardedWork(ShardKind Kind, IReadOnlyList<long> Costs, int Ranks)
{
    /// <summary>The kind's name where the coordinator records it: "shampoo-blocks", "grid-cells", "graph-partitions".</summary>
    public string KindName => Kind switch
    {
        ShardKind.ShampooBlocks => "shampoo-blocks",
        ShardKind.GridCells => "grid-cells",
        _ => "graph-partitions",
    };

    public string CostUnit => Kind == ShardKind.GraphPartitions ? "edges" : "bytes";

    public bool OnePerRank => Kind == ShardKind.GridCells;
}
