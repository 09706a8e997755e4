using Dtrain.TensorParallel.Grid;

namespace Dtrain.TensorParallel.Matmul;

/// <summary>C = A B, distributed like A and B, with what computing it cost this rank.</summary>
public sealed record MatmulResult(BlockMatrix Product, MatmulStats Stats);

/// <summary>
/// What one distributed matrix multiplication cost one rank. <see cref="BytesSent"/>: the payload bytes this
/// rank sent. <see cref="PeakBytes"/>: the most bytes of blocks the algorithm held at once on this rank: its
/// inputs, its product, shift and receive buffers, gathered panels; not the transport's own buffers nor the
/// host copies that stage CUDA tensors.
/// </summary>
public sealed record MatmulStats(string Algorithm, long BytesSent, long PeakBytes, TimeSpan Elapsed);
