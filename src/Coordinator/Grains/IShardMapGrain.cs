namespace Dtrain.Coordinator.Grains;

/// <summary>
/// The job's shard map (keyed by job id): which rank owns which unit of sharded work in the current epoch: each of
/// Distributed Shampoo's preconditioner blocks, each graph partition, each cell of a process grid. The first rank to
/// ask fixes a kind of work's placement for the epoch; every other rank gets the same owners, and a rank that
/// describes the work differently (another model, other options, another partitioned graph) is refused.
/// Work that a rank holds one unit of (a partition, a grid cell) goes unit p to rank p, which also keeps the
/// placement of a renumbered epoch predictable; other work is balanced, longest processing time first.
/// </summary>
public interface IShardMapGrain : IGrainWithStringKey
{
    /// <returns>Each unit's owner; null when the request's epoch is over.</returns>
    /// <exception cref="ArgumentException">The request describes the work differently from the placement already made.</exception>
    Task<int[]?> PlaceAsync(WorkToPlace work);

    /// <summary>The placements of the current epoch.</summary>
    Task<IReadOnlyList<Placement>> GetAsync();
}

/// <summary>
/// A rank asking who owns each unit of one kind of work: the units' costs, in order, what a cost counts, the ranks
/// sharing them, and whether each rank holds exactly one unit.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record WorkToPlace
{
    [Id(0)] public required long Epoch { get; init; }
    [Id(1)] public required int Rank { get; init; }
    [Id(2)] public required string Kind { get; init; }
    [Id(3)] public required IReadOnlyList<long> Costs { get; init; }
    [Id(4)] public required int Ranks { get; init; }
    [Id(5)] public string CostUnit { get; init; } = "bytes";
    [Id(6)] public bool OnePerRank { get; init; }
}

/// <summary>One kind of work placed for an epoch: its units' costs, the ranks sharing them, and each unit's owner.</summary>
[GenerateSerializer, Immutable]
public sealed record Placement
{
    [Id(0)] public required long Epoch { get; init; }
    [Id(1)] public required string Kind { get; init; }
    [Id(2)] public required long[] Costs { get; init; }
    [Id(3)] public required int Ranks { get; init; }
    [Id(4)] public required int[] Owners { get; init; }
    /// <summary>The rank whose request fixed the placement.</summary>
    [Id(5)] public required int PlacedBy { get; init; }
    [Id(6)] public required string CostUnit { get; init; }
    [Id(7)] public required bool OnePerRank { get; init; }

    /// <summary>The summed cost of the units each rank owns.</summary>
    public long[] CostPerRank() =>
        Enumerable.Range(0, Ranks).Select(rank => Costs.Where((_, unit) => Owners[unit] == rank).Sum()).ToArray();
}
