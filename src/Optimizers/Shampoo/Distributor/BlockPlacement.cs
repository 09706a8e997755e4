namespace Dtrain.Optimizers.Shampoo.Distributor;

/// <summary>Places Shampoo's blocks on the ranks of a group: each block's cost, in block order, to its owning rank.</summary>
public delegate Task<int[]> BlockPlacement(IReadOnlyList<long> costs, int ranks, CancellationToken ct);
