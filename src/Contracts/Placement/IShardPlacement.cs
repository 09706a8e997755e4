namespace Dtrain.Contracts.Placement;

/// <summary>Decides which rank owns each unit of sharded work; every rank of a group gets the same answer.</summary>
public interface IShardPlacement
{
    /// <summary>The owning rank of each unit, indexed like <see cref="ShardedWork.Costs"/>.</summary>
    Task<int[]> PlaceAsync(ShardedWork work, CancellationToken ct);
}

/// <summary>
/// Placement that every rank computes for itself, with no one to ask: greedy longest-processing-time
/// (<see cref="LongestProcessingTime"/>), deterministic, so all ranks agree; one unit per rank in order where the
/// kind holds one per rank.
/// </summary>
public sealed class LocalShardPlacement : IShardPlacement
{
    public static readonly LocalShardPlacement Instance = new();

    private LocalShardPlacement()
    {
    }

    public int[] Place(ShardedWork work)
    {
        if (!work.OnePerRank) return LongestProcessingTime.Assign(work.Costs, work.Ranks);
        if (work.Costs.Count != work.Ranks)
        {
            throw new ArgumentException($"{work.Costs.Count} {work.KindName} for {work.Ranks} ranks, which hold one each");
        }
        return Enumerable.Range(0, work.Ranks).ToArray();
    }

    public Task<int[]> PlaceAsync(ShardedWork work, CancellationToken ct) => Task.FromResult(Place(work));
}
