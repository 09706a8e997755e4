using System.Diagnostics;
using System.Reflection;
using Dtrain.Contracts;

namespace Dtrain.Launcher.Local;

/// <summary>
/// A child process: a worker of a local run (this same program, or the user's), a rank of a benchmark. Its stdout is
/// forwarded line by line, and its stderr to whoever wants it; its last stderr line is kept, so a failure can be
/// reported in the child's own words.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process process;
    private volatile string? lastError;

    private ChildProcess(int index, Process process)
    {
        Index = index;
        this.process = process;
    }

    public int Index { get; }

    public int ProcessId => process.Id;

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>What the child last said on stderr about why it failed (<see cref="ErrorLine"/>), without "dtrain: error: " ("dtrain: internal error: X" reads "internal error: X").</summary>
    public string? LastError => lastError is { } line && IsOwnError(line)
        ? line[(line.StartsWith(ErrorPrefix, StringComparison.Ordinal) ? ErrorPrefix : "dtrain: ").Length..]
        : lastError;

    /// <summary>Why the child failed in better words than its last stderr line (what its launcher, mpiexec, reported); null: that line.</summary>
    public string? Explanation { get; set; }

    /// <summary>This same program with <paramref name="arguments"/>: `dtrain ARGUMENTS`, or `dotnet dtrain.dll ARGUMENTS`.</summary>
    public static IReadOnlyList<string> Self(IEnumerable<string> arguments)
    {
        var self = new List<string> { Environment.ProcessPath! };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            self.Add(Assembly.GetEntryAssembly()!.Location);
        }
        return [.. self, .. arguments];
    }

    /// <summary>
    /// Starts <paramref name="command"/> with the job token and <paramref name="environment"/> in its environment, under
    /// <paramref name="launcher"/> when one is given (for example `mpiexec.mpich -n 4`).
    /// </summary>
    public static ChildProcess Start(
        int index, IReadOnlyList<string> command, string jobToken, Action<string> onOutput, IReadOnlyList<string>? launcher = null,
        Action<string>? onError = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var line = (launcher ?? []).Concat(command).ToList();
        var start = new ProcessStartInfo(line[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in line.Skip(1)) start.ArgumentList.Add(argument);
        // The token is all a child needs; the secret would admit it to every job derived from it.
        start.Environment.Remove(JobEnvironment.JobSecret);
        // This launcher numbers its own children (or its mpiexec does): a rank it was given itself would mislead them.
        foreach (string inherited in LaunchContract.Variables) start.Environment.Remove(inherited);
        start.Environment[JobEnvironment.JobToken] = jobToken;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        var process = new Process { StartInfo = start };
        var child = new ChildProcess(index, process);
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) onOutput(line); };
        process.ErrorDataReceived += (_, e) =>
        {
            if (string.IsNullOrWhiteSpace(e.Data)) return;
            child.lastError = ErrorLine(child.lastError, e.Data);
            onError?.Invoke(e.Data);
        };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new DtrainException($"cannot start {line[0]}: {e.Message}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>
    /// The line that tells why a child failed, once it printed <paramref name="line"/> on stderr: its last line, but
    /// never a stack frame or other indented continuation ("   at Program.Main", " ---> "), and none after dtrain's own
    /// error line ("dtrain: error: ..." or "dtrain: internal error: ...", which a stack trace follows).
    /// </summary>
    /// <param name="chosen">The line chosen before; null if none.</param>
    public static string? ErrorLine(string? chosen, string line)
    {
        if (IsOwnError(line)) return line;
        if (chosen is not null && (IsOwnError(chosen) || char.IsWhiteSpace(line[0]))) return chosen;
        return char.IsWhiteSpace(line[0]) ? null : line;
    }

    private static bool IsOwnError(string line) =>
        line.StartsWith(ErrorPrefix, StringComparison.Ordinal) || line.StartsWith("dtrain: internal error: ", StringComparison.Ordinal);

    private const string ErrorPrefix = "dtrain: error: ";

    public Task WaitForExitAsync(CancellationToken ct) => process.WaitForExitAsync(ct);

    /// <summary>Ends the child (and anything it started) if it still runs, and waits until it is gone.</summary>
    public void Stop()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        process.WaitForExit();
    }

    /// <summary>
    /// The child that exited with an error first, in its own words; null while none has. The earliest exit is the
    /// likely cause: when one worker dies, its peers fail moments later, each reporting the lost connection.
    /// </summary>
    public static string? FirstFailure(IEnumerable<ChildProcess> children, string kind) =>
        children.Where(c => c.HasFailed).MinBy(c => c.ExitTime)?.DescribeFailure(kind);

    public bool HasFailed => HasExited && ExitCode != 0;

    public DateTime ExitTime => process.ExitTime;

    public string DescribeFailure(string kind) => $"{kind} {Index} failed (exit code {ExitCode}): {Explanation ?? LastError ?? "no message"}";

    public void Dispose()
    {
        Stop();
        process.Dispose();
    }
}
