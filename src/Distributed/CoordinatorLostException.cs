using Dtrain.Contracts;

namespace Dtrain.Distributed;

/// <summary>
/// The coordinator this worker had joined stopped answering for longer than <see cref="WorkerOptions.CoordinatorLossTimeout"/>
/// (its process died, or nobody took its job over in time): the worker cannot go on without it.
/// </summary>
public sealed class CoordinatorLostException(string coordinator, TimeSpan timeout)
    : DtrainException(FormattableString.Invariant($"lost the coordinator at {coordinator}: no answer for {timeout.TotalSeconds:0.#} s"));
