using System.Globalization;
using System.Text.RegularExpressions;

namespace Dtrain.Launcher.Local;

/// <summary>
/// The banner MPICH's mpiexec (Hydra) prints on its stdout when a rank ends badly ("BAD TERMINATION OF ONE OF YOUR
/// APPLICATION PROCESSES", the process id, its exit code, "YOUR APPLICATION TERMINATED WITH THE EXIT STRING: Killed
/// (signal 9)" and advice). The launcher keeps it in the worker log and says instead, in one line, which rank it
/// was and how it ended.
/// </summary>
public sealed partial class MpiexecBanner
{
    private int? processId, exitCode;
    private string? exitString;

    /// <summary>Reads a line of mpiexec's stdout; true when it belongs to the banner (or is blank), so is not shown.</summary>
    public bool Read(string line)
    {
        if (ProcessLine().Match(line) is { Success: true } process) processId = int.Parse(process.Groups[1].Value, CultureInfo.InvariantCulture);
        else if (ExitCodeLine().Match(line) is { Success: true } code) exitCode = int.Parse(code.Groups[1].Value, CultureInfo.InvariantCulture);
        else if (ExitStringLine().Match(line) is { Success: true } ended) exitString = ended.Groups[1].Value.Trim();
        return line.Trim().Length == 0 || line.StartsWith('=') || ExitStringLine().IsMatch(line)
            || line.StartsWith("This typically refers to a problem with your application", StringComparison.Ordinal)
            || line.StartsWith("Please see the FAQ page", StringComparison.Ordinal);
    }

    /// <summary>
    /// Which rank ended and how ("rank 1 (process 4242) ended by signal 9 (killed)"), its rank looked up by
    /// <paramref name="rankOf"/>; null when no banner named a process.
    /// </summary>
    public string? Describe(Func<int, int?> rankOf)
    {
        if (processId is not { } pid) return null;
        string who = rankOf(pid) is { } rank ? $"rank {rank} (process {pid})" : $"an MPI rank (process {pid})";
        string how = exitString is { } text && SignalString().Match(text) is { Success: true } signal
            ? $"ended by signal {signal.Groups[2].Value} ({signal.Groups[1].Value.ToLowerInvariant()})"
            : exitCode is { } code ? $"exited with code {code}" : "ended";
        return $"{who} {how}; mpiexec ended the other ranks";
    }

    [GeneratedRegex(@"^=\s+PID (\d+) RUNNING AT")]
    private static partial Regex ProcessLine();

    [GeneratedRegex(@"^=\s+EXIT CODE: (\d+)")]
    private static partial Regex ExitCodeLine();

    [GeneratedRegex("^YOUR APPLICATION TERMINATED WITH THE EXIT STRING: (.+)$")]
    private static partial Regex ExitStringLine();

    [GeneratedRegex(@"^(.+) \(signal (\d+)\)$")]
    private static partial Regex SignalString();
}
