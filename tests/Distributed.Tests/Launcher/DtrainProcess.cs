using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Dtrain.Tests.Launcher;

/// <summary>The real `dtrain` program, run as a child process the way a user runs it.</summary>
internal sealed class DtrainProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdout = new(), stderr = new();

    private DtrainProcess(Process process) => this.process = process;

    public int Id => process.Id;

    public string Stdout { get { lock (stdout) return stdout.ToString(); } }

    public string Stderr { get { lock (stderr) return stderr.ToString(); } }

    /// <param name="workingDirectory">Where it runs; null: this process's working directory.</param>
    public static DtrainProcess Start(IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dtrain.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        return Start(start);
    }

    /// <summary>
    /// Starts dtrain on a pseudo-terminal (util-linux's `script`), as a person at an xterm runs it: its stdout is
    /// interactive, and both streams arrive in <see cref="Stdout"/>.
    /// </summary>
    public static DtrainProcess StartOnTerminal(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string command = string.Join(" ", new[] { "dotnet", Path.Combine(AppContext.BaseDirectory, "dtrain.dll") }.Concat(arguments).Select(word => $"'{word}'"));
        foreach (var argument in new[] { "--quiet", "--return", "--command", command, "/dev/null" }) start.ArgumentList.Add(argument);
        start.Environment["TERM"] = "xterm";
        return Start(start);
    }

    private static DtrainProcess Start(ProcessStartInfo start)
    {
        var dtrain = new DtrainProcess(new Process { StartInfo = start });
        dtrain.process.OutputDataReceived += (_, e) => { lock (dtrain.stdout) dtrain.stdout.AppendLine(e.Data); };
        dtrain.process.ErrorDataReceived += (_, e) => { lock (dtrain.stderr) dtrain.stderr.AppendLine(e.Data); };
        dtrain.process.Start();
        dtrain.process.BeginOutputReadLine();
        dtrain.process.BeginErrorReadLine();
        return dtrain;
    }

    /// <summary>Runs dtrain to the end and returns its exit code; fails the test if it takes longer than the limit.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        TimeSpan limit, params string[] arguments)
    {
        using var dtrain = Start(arguments);
        int code = await dtrain.WaitAsync(limit);
        return (code, dtrain.Stdout, dtrain.Stderr);
    }

    /// <summary>The digest of the final parameters a finished run printed; fails the test when it printed none.</summary>
    public static string ParameterDigest(string stdout) =>
        Regex.Match(stdout, @"parameters identical on all ranks \(sha256 ([0-9a-f]{16})\)") is { Success: true } digest
            ? digest.Groups[1].Value
            : throw new Xunit.Sdk.XunitException($"no parameter digest in: {stdout}");

    /// <summary>The job token `dtrain token` derives for <paramref name="jobId"/> under <paramref name="secret"/>.</summary>
    public static async Task<string> TokenAsync(string secret, string jobId)
    {
        using var dtrain = Start(["token", "--job-id", jobId], new Dictionary<string, string> { ["DTRAIN_JOB_SECRET"] = secret });
        Assert.True(await dtrain.WaitAsync(TimeSpan.FromMinutes(1)) == 0, dtrain.Stderr);
        return dtrain.Stdout.Trim();
    }

    public async Task<int> WaitAsync(TimeSpan limit)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"dtrain did not exit within {limit.TotalSeconds} s; stdout: {Stdout} stderr: {Stderr}");
        }
        process.WaitForExit(); // drains the output readers
        return process.ExitCode;
    }

    /// <summary>Waits until stdout holds <paramref name="text"/>, failing with what it printed so far.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!Stdout.Contains(text))
        {
            if (DateTime.UtcNow > deadline || process.HasExited)
            {
                throw new TimeoutException($"waited {limit.TotalSeconds} s for '{text}' from dtrain; stdout: {Stdout} stderr: {Stderr}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Sends a signal (INT, TERM, STOP...) to this process alone, as `kill -SIGNAL` does.</summary>
    public void Signal(string name) => Process.Start("kill", [$"-{name}", process.Id.ToString()])!.WaitForExit();

    /// <summary>The direct children of this process, read from /proc.</summary>
    public IReadOnlyList<int> Children() => ChildrenOf(process.Id);

    public static IReadOnlyList<int> ChildrenOf(int pid)
    {
        try
        {
            return Directory.GetDirectories($"/proc/{pid}/task")
                .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(int.Parse)
                .ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Whether a process still exists and is not a zombie waiting to be reaped.</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}
