namespace Dtrain.Optimizers.Shampoo.Distributor;

/// <summary>
/// Which rank computes which block (reference section 4): greedy longest-processing-time
/// (<see cref="Contracts.Placement.LongestProcessingTime"/>) over the blocks' costs. A block's cost is its size in
/// bytes rounded up to 64.
/// </summary>
public static class BlockAssignment
{
    public static long Cost(long elements, int bytesPerElement) => (elements * bytesPerElement + 63) / 64 * 64;
}
