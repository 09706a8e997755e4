using System.Text.Json;
using System.Text.RegularExpressions;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Launcher;

/// <summary>
/// Ctrl-C (SIGINT) or SIGTERM during `dtrain run`, sent to the launcher alone: it stops every worker, names the
/// newest committed checkpoint and the command that resumes from it, and exits with 128 + the signal's number.
/// </summary>
public class InterruptTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);
    private static readonly Regex Interrupted = new(
        @"^dtrain: interrupted: stopped every worker; last checkpoint: (\S+) \(step (\d+)\); resume with: dtrain (.+ --resume)$");

    /// <summary>Starts a job that checkpoints every 5 steps, waits for its first committed checkpoint, and sends the signal.</summary>
    private static async Task<(DtrainProcess Run, IReadOnlyList<int> Workers)> InterruptAfterFirstCheckpointAsync(TempDirectory directory, string signal)
    {
        string checkpoints = directory.File("ckpt");
        var run = DtrainProcess.Start(["run", "--steps", "600", "--device", "cpu", "--port", TestPorts.FreePair().ToString(),
            "--checkpoint-every", "5", "--checkpoint-dir", checkpoints, "--run-dir", directory.File("run")]);
        await WaitForCheckpointAsync(checkpoints, run);
        var workers = run.Children();
        Assert.Equal(2, workers.Count);
        run.Signal(signal);
        return (run, workers);
    }

    [SigintFact]
    public async Task Ctrl_c_stops_every_worker_names_the_last_checkpoint_and_its_resume_command_works()
    {
        using var directory = new TempDirectory();
        var (run, workers) = await InterruptAfterFirstCheckpointAsync(directory, "INT");
        using (run)
        {
            Assert.Equal(130, await run.WaitAsync(Limit));
        }

        // Anchored at both ends and without newlines inside: the whole of stderr is this one line.
        var said = Interrupted.Match(run.Stderr.Trim());
        Assert.True(said.Success, run.Stderr);
        string checkpoint = said.Groups[1].Value;
        Assert.True(File.Exists(Path.Combine(checkpoint, CheckpointStore.ManifestName)), $"{checkpoint} holds no committed checkpoint");
        Assert.Equal(CheckpointStore.DirectoryOf(directory.File("ckpt"), long.Parse(said.Groups[2].Value)), checkpoint);
        Assert.DoesNotContain(workers, DtrainProcess.IsRunning);

        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(directory.File("run/summary.json")));
        Assert.Equal("interrupted", summary.RootElement.GetProperty("status").GetString());
        Assert.Equal(checkpoint, summary.RootElement.GetProperty("last_checkpoint").GetString());

        // The printed command is the same job from that checkpoint.
        var resumed = await DtrainProcess.RunAsync(Limit, said.Groups[3].Value.Split(' '));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains($"resuming from {checkpoint} (step {said.Groups[2].Value})", resumed.Stdout);
        Assert.Contains("done: 600 steps on 2 workers", resumed.Stdout);
    }

    /// <summary>
    /// A run given relative paths, with --json: the command it prints resumes it from any working directory, into its
    /// own run directory.
    /// </summary>
    [Fact]
    public async Task Sigterm_stops_every_worker_exits_with_143_and_the_printed_command_resumes_from_anywhere()
    {
        using var directory = new TempDirectory();
        string here = Directory.CreateDirectory(directory.File("here")).FullName, elsewhere = Directory.CreateDirectory(directory.File("elsewhere")).FullName;
        using var run = DtrainProcess.Start(["run", "--steps", "100", "--device", "cpu", "--port", TestPorts.FreePair().ToString(),
            "--checkpoint-every", "5", "--checkpoint-dir", "ckpt", "--run-dir", "runs/interrupted", "--json"], workingDirectory: here);
        await WaitForCheckpointAsync(Path.Combine(here, "ckpt"), run);
        var workers = run.Children();
        run.Signal("TERM");

        Assert.Equal(143, await run.WaitAsync(Limit));
        var said = Interrupted.Match(run.Stderr.Trim());
        Assert.True(said.Success, run.Stderr);
        Assert.DoesNotContain(workers, DtrainProcess.IsRunning);

        using var resumed = DtrainProcess.Start(said.Groups[3].Value.Split(' '), workingDirectory: elsewhere);
        Assert.True(await resumed.WaitAsync(Limit) == 0, resumed.Stderr);
        Assert.Contains($"resuming from {said.Groups[1].Value} (step {said.Groups[2].Value})", resumed.Stdout);
        Assert.Contains("\"status\":\"completed\"", resumed.Stdout);
        Assert.Equal(2, File.ReadLines(Path.Combine(here, "runs/interrupted", "launcher.log")).Count(line => line.Contains(" coordinator http://")));
    }

    private static async Task WaitForCheckpointAsync(string checkpoints, DtrainProcess run)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!Directory.Exists(checkpoints) || Directory.GetFiles(checkpoints, CheckpointStore.ManifestName, SearchOption.AllDirectories).Length == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no checkpoint committed within {Limit}; stdout: {run.Stdout}");
            await Task.Delay(20);
        }
    }
}
