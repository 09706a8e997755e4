using System.Diagnostics;

namespace Dtrain.Distributed.Runtime;

/// <summary>Ends this worker when the launcher that started it is gone, so no worker outlives its job.</summary>
public static class ParentWatch
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>The exit code of a worker that stopped because its launcher was gone (listed in the README).</summary>
    public const int LauncherGoneExitCode = 3;

    public static void Start(int parentProcessId, TextWriter log) => _ = Task.Run(async () =>
    {
        while (true)
        {
            await Task.Delay(Interval);
            if (!IsAlive(parentProcessId))
            {
                log.WriteLine($"error: the launcher (process {parentProcessId}) is gone; stopping this worker");
                Environment.Exit(LauncherGoneExitCode);
            }
        }
    });

    private static bool IsAlive(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
