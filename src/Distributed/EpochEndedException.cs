using Dtrain.Contracts;

namespace Dtrain.Distributed;

/// <summary>The coordinator has moved the job past this worker's epoch: the worker leaves it and rejoins.</summary>
public sealed class EpochEndedException(long epoch, string detail) : DtrainException($"epoch {epoch} ended: {detail}");
