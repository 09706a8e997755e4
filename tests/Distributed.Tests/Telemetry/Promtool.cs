using System.Diagnostics;

namespace Dtrain.Tests.Telemetry;

/// <summary>Debian's promtool (scripts/setup.sh installs it), run to the end.</summary>
internal static class Promtool
{
    /// <summary>promtool's exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        using var promtool = Process.Start(new ProcessStartInfo("promtool", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var (stdout, stderr) = (promtool.StandardOutput.ReadToEndAsync(), promtool.StandardError.ReadToEndAsync());
        await promtool.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        return (promtool.ExitCode, await stdout + await stderr);
    }
}
