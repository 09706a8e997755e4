using System.Runtime.InteropServices;

namespace Dtrain.Launcher;

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM (what Kubernetes sends) cancel <see cref="Token"/>, so that a command can stop its
/// workers and say where to resume before it exits. A second signal is not held back: it ends the process at once.
/// </summary>
public sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource cancel = new();
    private readonly PosixSignalRegistration[] registrations;
    private int exitCode;

    public Interruption() =>
        registrations = [Register(PosixSignal.SIGINT, ExitCodes.Interrupted), Register(PosixSignal.SIGTERM, ExitCodes.Terminated)];

    public CancellationToken Token => cancel.Token;

    /// <summary>130 after SIGINT, 143 after SIGTERM; null while no signal came.</summary>
    public int? ExitCode => Volatile.Read(ref exitCode) is > 0 and var code ? code : null;

    private PosixSignalRegistration Register(PosixSignal signal, int code) => PosixSignalRegistration.Create(signal, context =>
    {
        if (Interlocked.CompareExchange(ref exitCode, code, 0) != 0) return;
        context.Cancel = true;
        cancel.Cancel();
    });

    public void Dispose()
    {
        foreach (var registration in registrations) registration.Dispose();
        cancel.Dispose();
    }
}
