namespace Dtrain.Coordinator.Grains;

/// <summary>
/// The job's shard map (keyed by job id): which rank owns which unit of sharded work in the current epoch, such as
/// each of Distributed Shampoo's preconditioner blocks. The first rank to ask fixes a kind of work's placement for
/// the epoch (longest processing time first over the costs it names); every other rank gets the same owners, and a
/// rank that describes the work differently (another model or other options) is refused. Graph partitions and
/// grid cells need no entry: partition p and grid cell p belong to rank p by construction.
/// </summary>
public interface IShardMapGrain : IGrainWithStringKey
{
    /// <returns>Each unit's owner; null when the request's epoch is over.</returns>
    /// <exception cref="ArgumentException">The request describes the work differently from the placement already made.</exception>
    Task<int[]?> PlaceAsync(WorkToPlace work);

    /// <summary>The placements of the current epoch.</summary>
    Task<IReadOnlyList<Placement>> GetAsync();
}

/// <summary>A rank asking who owns each unit of one kind of work: the units' costs, in order, and the ranks sharing them.</summary>
[GenerateSerializer, Immutable]
public sealed record WorkToPlace
{
    [Id(0)] public required long Epoch { get; init; }
    [Id(1)] public required int Rank { get; init; }
    [Id(2)] public required string Kind { get; init; }
    [Id(3)] public required IReadOnlyList<long> Costs { get; init; }
    [Id(4)] public required int Ranks { get; init; }
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
}
