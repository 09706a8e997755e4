using System.Runtime.ExceptionServices;

namespace Dtrain.Collectives.Tensors;

/// <summary>
/// Carries an exception out of a custom autograd function's backward. TorchSharp runs backward as a callback of
/// libtorch's autograd engine, and a .NET exception cannot cross that native frame: the process would end. So the
/// work inside backward runs through <see cref="Run"/>, which records the first exception instead of throwing it and
/// skips all later work (the rest of backward passes quickly, no collective waits on a rank that gave up); the code
/// that called backward() rethrows it with <see cref="ThrowIfFailed"/> once backward has returned.
/// </summary>
public sealed class BackwardFailure
{
    private ExceptionDispatchInfo? first;

    public bool HasFailed => Volatile.Read(ref first) is not null;

    /// <summary>Runs <paramref name="work"/> unless something failed already; records what it throws.</summary>
    public void Run(Action work)
    {
        if (HasFailed) return;
        try
        {
            work();
        }
        catch (Exception e)
        {
            Record(e);
        }
    }

    /// <summary>Keeps <paramref name="exception"/> unless an earlier one is kept already.</summary>
    public void Record(Exception exception) =>
        Interlocked.CompareExchange(ref first, ExceptionDispatchInfo.Capture(exception), null);

    /// <summary>Throws the recorded exception, with its original stack, and forgets it.</summary>
    public void ThrowIfFailed() => Interlocked.Exchange(ref first, null)?.Throw();
}
