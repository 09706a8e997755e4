using Dtrain.Contracts;

namespace Dtrain.TensorParallel;

/// <summary>
/// Matrices, blocks or a process grid that do not fit each other or the algorithm. Thrown on the rank that
/// finds it, before that rank sends or receives anything.
/// </summary>
public sealed class GridException(string message) : DtrainException(message);
