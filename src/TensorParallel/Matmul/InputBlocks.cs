namespace Dtrain.TensorParallel.Matmul;

/// <summary>
/// What Cannon's algorithm may do with the caller's blocks of A and B. Shifting them in place saves two blocks
/// of memory (5 blocks held in all instead of 7), but only a matrix that divides evenly by the grid, whose block
/// on this rank is contiguous, can be shifted in place; other blocks are copied (zero-padded) and only read.
/// Blocks shifted in place must not share memory with each other, and nothing else may read them meanwhile.
/// </summary>
public enum InputBlocks
{
    /// <summary>Only read: the algorithm shifts copies.</summary>
    ReadOnly,

    /// <summary>Shifted in place and unskewed at the end, one more shift each: the tensors hold their own blocks again.</summary>
    ShiftedAndRestored,

    /// <summary>Shifted in place and left as the last shift left them: no unskew; the tensors' values are undefined afterwards.</summary>
    Consumed,
}
