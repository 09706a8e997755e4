namespace Dtrain.Distributed;

/// <summary>
/// One kind of sharded work a rank asks the coordinator's shard map to place: each unit's cost (in unit order) and
/// what it counts, the ranks sharing the units, and whether each rank holds exactly one of them.
/// </summary>
public sealed record ShardedWork(string Kind, IReadOnlyList<long> Costs, int Ranks, string CostUnit, bool OnePerRank = false);
