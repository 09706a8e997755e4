using System.Globalization;

namespace Dtrain.Tests.Launcher;

/// <summary>
/// A test that sends SIGINT to a dtrain it starts: skipped where this process ignores SIGINT, as a job started in
/// the background by a non-interactive shell does. The dtrain it starts inherits that, and .NET, as Python, leaves
/// an ignored SIGINT ignored, so Ctrl-C could not reach it there.
/// </summary>
public sealed class SigintFactAttribute : FactAttribute
{
    public SigintFactAttribute()
    {
        if (SigintIgnored()) Skip = "SIGINT is ignored by this test process (started in the background), so also by the dtrain it starts";
    }

    private static bool SigintIgnored()
    {
        string? line = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:")) : null;
        return line is not null && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << 1)) != 0;
    }
}
