using Dtrain.Contracts.Placement;

namespace Dtrain.Coordinator.Grains;

public sealed class ShardMapGrain([PersistentState("shards")] IPersistentState<ShardMapGrain.Record> stored) : Grain, IShardMapGrain
{
    [GenerateSerializer]
    public sealed class Record
    {
        [Id(0)] public long Epoch { get; set; } = 1;
        [Id(1)] public Dictionary<string, Placement> Placements { get; set; } = [];
    }

    public async Task<int[]?> PlaceAsync(WorkToPlace request)
    {
        if (request.Epoch < stored.State.Epoch) return null;
        if (request.Ranks < 1) throw new ArgumentException($"work cannot be placed on {request.Ranks} ranks");
        if (request.Costs.Any(cost => cost < 0)) throw new ArgumentException("a unit of work cannot cost less than nothing");
        if (request.OnePerRank && request.Costs.Count != request.Ranks)
        {
            throw new ArgumentException($"rank {request.Rank} has {request.Costs.Count} {request.Kind} for {request.Ranks} ranks, which hold one each");
        }
        if (request.Epoch > stored.State.Epoch) (stored.State.Epoch, stored.State.Placements) = (request.Epoch, []);
        if (stored.State.Placements.TryGetValue(request.Kind, out var placed))
        {
            if (placed.Ranks != request.Ranks || !placed.Costs.SequenceEqual(request.Costs) || placed.OnePerRank != request.OnePerRank)
            {
                throw new ArgumentException(
                    $"rank {request.Rank} describes {request.Kind} as {request.Costs.Count} units on {request.Ranks} ranks (total cost {request.Costs.Sum()}), " +
                    $"but rank {placed.PlacedBy} described {placed.Costs.Length} units on {placed.Ranks} ranks (total cost {placed.Costs.Sum()}): the ranks disagree on the model or its options");
            }
            return placed.Owners;
        }
        var placement = new Placement
        {
            Epoch = request.Epoch,
            Kind = request.Kind,
            Costs = request.Costs.ToArray(),
            Ranks = request.Ranks,
            Owners = request.OnePerRank ? Enumerable.Range(0, request.Ranks).ToArray() : LongestProcessingTime.Assign(request.Costs, request.Ranks),
            PlacedBy = request.Rank,
            CostUnit = request.CostUnit,
            OnePerRank = request.OnePerRank,
        };
        stored.State.Placements[request.Kind] = placement;
        await stored.WriteStateAsync();
        return placement.Owners;
    }

    public Task<IReadOnlyList<Placement>> GetAsync() => Task.FromResult<IReadOnlyList<Placement>>(stored.State.Placements.Values.ToArray());
}
