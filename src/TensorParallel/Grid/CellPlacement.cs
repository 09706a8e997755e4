namespace Dtrain.TensorParallel.Grid;

/// <summary>Places a grid's cells on ranks (the coordinator's shard map): each cell's cost, row-major, to its owning rank.</summary>
public delegate Task<int[]> CellPlacement(IReadOnlyList<long> costs, CancellationToken ct);
