using System.Diagnostics;
using System.Reflection;

namespace Dtrain.Launcher.Local;

/// <summary>
/// One `dtrain worker` child process of a local run. Its first stdout line is forwarded (it names the rank and
/// its metrics endpoint); its stderr is kept so a failure can be reported with the worker's own words.
/// </summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private volatile string? lastError;

    private WorkerProcess(int index, Process process)
    {
        Index = index;
        this.process = process;
    }

    public int Index { get; }

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public string? LastError => lastError;

    /// <summary>Starts the worker with this same program: `dtrain worker ...` (or `dotnet dtrain.dll worker ...`).</summary>
    public static WorkerProcess Start(int index, IEnumerable<string> workerArguments, string jobToken, Action<string> onOutput)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }
        start.ArgumentList.Add("worker");
        foreach (var argument in workerArguments) start.ArgumentList.Add(argument);
        start.Environment[JobEnvironment.JobToken] = jobToken;

        var process = new Process { StartInfo = start };
        var worker = new WorkerProcess(index, process);
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) onOutput(line); };
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrWhiteSpace(e.Data)) worker.lastError = e.Data.Replace("dtrain: error: ", "");
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    public Task WaitForExitAsync(CancellationToken ct) => process.WaitForExitAsync(ct);

    /// <summary>Ends the worker (and anything it started) if it still runs, and waits until it is gone.</summary>
    public void Stop()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        process.WaitForExit();
    }

    public void Dispose()
    {
        Stop();
        process.Dispose();
    }
}
