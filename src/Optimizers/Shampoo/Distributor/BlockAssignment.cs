namespace Dtrain.Optimizers.Shampoo.Distributor;

/// <summary>
/// What a block costs its owner when the blocks are placed (reference section 4): its size in bytes of the
/// communication dtype, rounded up to 64.
/// </summary>
public static class BlockAssignment
{
    public static long Cost(long elements, int bytesPerElement) => (elements * bytesPerElement + 63) / 64 * 64;
}
