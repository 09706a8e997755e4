using System.Diagnostics;
using System.Text.RegularExpressions;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Tests.Graph;
using Dtrain.Tests.Launcher;

namespace Dtrain.Tests.Checkpoints;

/// <summary>
/// A job that loses a worker: `dtrain run --max-restarts` stops the group, starts a new epoch from the newest
/// committed checkpoint, and ends bitwise where an uninterrupted run ends (deterministic replay).
/// </summary>
public class ElasticRunTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private static readonly Regex Digest = new(@"parameters identical on all ranks \(sha256 (\w+)\)");
    private static readonly Regex Restarting = new(@"reached step (\d+), restarting from step (\d+) \((\d+) steps lost, restart \d of 2\)");
    private const string Steps = "400";

    private static string[] Job(string checkpoints) =>
        ["run", "--workers", "4", "--steps", Steps, "--device", "cpu", "--checkpoint-every", "5", "--checkpoint-dir", checkpoints,
         "--keep-checkpoints", "1000", "--max-restarts", "2", "--heartbeat-timeout", "3", "--port", TestPorts.FreePair().ToString()];

    private static async Task<string> UninterruptedDigestAsync()
    {
        var run = await DtrainProcess.RunAsync(Limit, "run", "--workers", "4", "--steps", Steps, "--device", "cpu", "--port", TestPorts.FreePair().ToString());
        Assert.True(run.ExitCode == 0, run.Stderr);
        return Digest.Match(run.Stdout).Groups[1].Value;
    }

    /// <summary>Starts the job, waits until a random number of checkpoints is committed, then does something to one worker.</summary>
    private static async Task<(string Stdout, TimeSpan Detected)> RunAndDisturbAsync(string checkpoints, int seed, Action<Process> disturb)
    {
        using var job = DtrainProcess.Start(Job(checkpoints));
        int wanted = 2 + new Random(seed).Next(8);
        var waited = Stopwatch.StartNew();
        while (!Directory.Exists(checkpoints) || Directory.GetFiles(checkpoints, CheckpointStore.ManifestName, SearchOption.AllDirectories).Length < wanted)
        {
            Assert.True(waited.Elapsed < Limit, $"fewer than {wanted} checkpoints within {Limit}; stdout: {job.Stdout}");
            await Task.Delay(10);
        }
        var workers = job.Children();
        var victim = Process.GetProcessById(workers[new Random(seed).Next(workers.Count)]);
        // Only what follows the disturbance counts: on a loaded machine a slow start can cost a restart of its own.
        int before = job.Stdout.Length;
        var disturbed = Stopwatch.StartNew();
        disturb(victim);
        while (!Restarting.IsMatch(job.Stdout[before..]))
        {
            Assert.True(disturbed.Elapsed < Limit, $"no restart within {Limit}; stdout: {job.Stdout}");
            await Task.Delay(10);
        }
        var detected = disturbed.Elapsed;
        int code = await job.WaitAsync(Limit);
        Assert.True(code == 0, $"exit code {code}; stderr: {job.Stderr}");
        Assert.DoesNotContain(workers, DtrainProcess.IsRunning);
        return (job.Stdout[before..], detected);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_killed_worker_is_replaced_from_the_last_checkpoint_and_the_job_ends_as_if_uninterrupted(int seed)
    {
        using var directory = new TempDirectory();
        var (stdout, detected) = await RunAndDisturbAsync(directory.Path, seed, victim => victim.Kill());

        Assert.True(detected < TimeSpan.FromSeconds(5), $"the loss was detected after {detected.TotalSeconds:0.0} s");
        Assert.True(Regex.IsMatch(stdout, @"worker \d failed \(exit code 137\)"), stdout);
        var restart = Restarting.Match(stdout);
        long reached = long.Parse(restart.Groups[1].Value), resumed = long.Parse(restart.Groups[2].Value);
        // Checkpoints come every 5 steps, and the newest committed one is where the new epoch starts.
        Assert.True(resumed > 0 && resumed % 5 == 0 && reached - resumed < 10 && long.Parse(restart.Groups[3].Value) == Math.Max(0, reached - resumed), restart.Value);
        Assert.Matches(@"epoch \d trains again: step \d+ [0-9.]+ s after the restart began", stdout);
        Assert.Equal(await UninterruptedDigestAsync(), Digest.Match(stdout).Groups[1].Value);
    }

    /// <summary>A worker that hangs (SIGSTOP) stays alive but stops its heartbeats: it is declared lost after the timeout.</summary>
    [Fact]
    public async Task A_worker_that_stops_answering_is_declared_lost_by_its_missing_heartbeats()
    {
        using var directory = new TempDirectory();
        var (stdout, detected) = await RunAndDisturbAsync(directory.Path, seed: 3, victim => Process.Start("kill", ["-STOP", victim.Id.ToString()])!.WaitForExit());

        Assert.True(Regex.IsMatch(stdout, @"rank \d was lost: no heartbeat for 3 s"), stdout);
        Assert.InRange(detected.TotalSeconds, 2.5, 6);
        Assert.Equal(await UninterruptedDigestAsync(), Digest.Match(stdout).Groups[1].Value);
    }
}
