using Dtrain.Contracts.Placement;

namespace Dtrain.Optimizers.Shampoo.Distributor;

/// <summary>Places Shampoo's blocks on the ranks of a group: each block's cost, in block order, to its owning rank.</summary>
public interface IBlockPlacement
{
    Task<int[]> PlaceAsync(IReadOnlyList<long> costs, int ranks, CancellationToken ct);
}

/// <summary>
/// Placement computed by every rank for itself, as the reference does: greedy longest-processing-time
/// (<see cref="LongestProcessingTime"/>), deterministic, so all ranks agree without talking.
/// </summary>
public sealed class LocalBlockPlacement : IBlockPlacement
{
    public static readonly LocalBlockPlacement Instance = new();

    private LocalBlockPlacement()
    {
    }

    public int[] Place(IReadOnlyList<long> costs, int ranks) => LongestProcessingTime.Assign(costs, ranks);

    public Task<int[]> PlaceAsync(IReadOnlyList<long> costs, int ranks, CancellationToken ct) => Task.FromResult(Place(costs, ranks));
}
