using System.Diagnostics;
using System.Text.RegularExpressions;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Tests.Graph;
using Dtrain.Tests.Launcher;

namespace Dtrain.Tests.Checkpoints;

/// <summary>
/// A job that loses a worker: the survivors leave the epoch in place and rejoin, a replacement joins them, the new
/// epoch resumes from the newest committed checkpoint, and the job ends bitwise where an uninterrupted run ends
/// (deterministic replay).
/// </summary>
public class ElasticRunTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private static readonly Regex Restarting = new(@"reached step (\d+), restarting from step (\d+) \((\d+) steps lost, restart \d of 2\)");
    private const string Steps = "200";

    private static string[] Training(string optimizer) =>
        ["run", "--workers", "4", "--steps", Steps, "--device", "cpu", "--optimizer", optimizer, "--port", TestPorts.FreePair().ToString()];

    private static string[] Job(string checkpoints, string optimizer) =>
        [.. Training(optimizer), "--checkpoint-every", "5", "--checkpoint-dir", checkpoints, "--keep-checkpoints", "1000", "--max-restarts", "2",
         "--heartbeat-timeout", "3"];

    private static async Task<string> UninterruptedDigestAsync(string optimizer = "adam")
    {
        var run = await DtrainProcess.RunAsync(Limit, Training(optimizer));
        Assert.True(run.ExitCode == 0, run.Stderr);
        return DtrainProcess.ParameterDigest(run.Stdout);
    }

    private static int CommittedCheckpoints(string checkpoints) =>
        Directory.Exists(checkpoints) ? Directory.GetFiles(checkpoints, CheckpointStore.ManifestName, SearchOption.AllDirectories).Length : 0;

    private static async Task WaitForCheckpointsAsync(string checkpoints, int wanted, DtrainProcess job)
    {
        var waited = Stopwatch.StartNew();
        while (CommittedCheckpoints(checkpoints) < wanted)
        {
            Assert.True(waited.Elapsed < Limit, $"fewer than {wanted} checkpoints within {Limit}; stdout: {job.Stdout}");
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Starts the job, waits until a random number of checkpoints is committed, then does something to one worker;
    /// checks that the other workers trained on in the same processes.
    /// </summary>
    private static async Task<(string Stdout, TimeSpan Detected)> RunAndDisturbAsync(
        string checkpoints, int seed, Action<Process> disturb, string optimizer = "adam")
    {
        using var job = DtrainProcess.Start(Job(checkpoints, optimizer));
        await WaitForCheckpointsAsync(checkpoints, 2 + new Random(seed).Next(8), job);
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
        var survivors = workers.Where(pid => pid != victim.Id).ToList();
        Assert.All(survivors, pid => Assert.Contains(pid, job.Children()));
        int code = await job.WaitAsync(Limit);
        Assert.True(code == 0, $"exit code {code}; stderr: {job.Stderr}");
        Assert.DoesNotContain(workers, DtrainProcess.IsRunning);
        return (job.Stdout[before..], detected);
    }

    /// <summary>
    /// A killed worker, with Adam's sharded state. Shampoo's placed blocks are restarted by the hung worker below, and
    /// GraphSAGE's partitions, whose ranks are renumbered, by <see cref="Survivors_of_a_pre_partitioned_graph_share_its_partitions_and_a_late_worker_grows_the_world_again"/>.
    /// </summary>
    [Fact]
    public async Task A_killed_worker_is_replaced_from_the_last_checkpoint_and_the_job_ends_as_if_uninterrupted()
    {
        using var directory = new TempDirectory();
        var (stdout, detected) = await RunAndDisturbAsync(directory.Path, seed: 1, victim => victim.Kill());

        Assert.True(detected < TimeSpan.FromSeconds(5), $"the loss was detected after {detected.TotalSeconds:0.0} s");
        Assert.True(Regex.IsMatch(stdout, @"worker \d failed \(exit code 137\): no message; starting a replacement"), stdout);
        Assert.Equal(3, Regex.Matches(stdout, @"rank \d leaves epoch 1 \(.+\) and rejoins").Count);
        var restart = Restarting.Match(stdout);
        long reached = long.Parse(restart.Groups[1].Value), resumed = long.Parse(restart.Groups[2].Value);
        // Checkpoints come every 5 steps, and the newest committed one is where the new epoch starts.
        Assert.True(resumed > 0 && resumed % 5 == 0 && reached - resumed < 10 && long.Parse(restart.Groups[3].Value) == Math.Max(0, reached - resumed), restart.Value);
        Assert.Matches(@"epoch \d trains again: step \d+ [0-9.]+ s after the restart began", stdout);
        Assert.Equal(await UninterruptedDigestAsync(), DtrainProcess.ParameterDigest(stdout));
    }

    /// <summary>
    /// A worker that hangs (SIGSTOP) stays alive but stops its heartbeats: it is declared lost after the timeout, and
    /// the job, with Distributed Shampoo's blocks placed on its ranks, resumes and ends as if uninterrupted.
    /// </summary>
    [Fact]
    public async Task A_worker_that_stops_answering_is_declared_lost_by_its_missing_heartbeats()
    {
        using var directory = new TempDirectory();
        var (stdout, detected) = await RunAndDisturbAsync(
            directory.Path, seed: 3, victim => Process.Start("kill", ["-STOP", victim.Id.ToString()])!.WaitForExit(), optimizer: "shampoo");

        Assert.True(Regex.IsMatch(stdout, @"rank \d was lost: no heartbeat for 3 s"), stdout);
        Assert.InRange(detected.TotalSeconds, 2.5, 6);
        Assert.Equal(await UninterruptedDigestAsync(optimizer: "shampoo"), DtrainProcess.ParameterDigest(stdout));
    }

    /// <summary>
    /// Elastic membership without a launcher, on a graph partitioned beforehand into 3 parts: a standalone
    /// coordinator for 2 to 3 workers loses one, the two survivors share the 3 partitions anew and train on after
    /// the last call, and a worker started later grows the world back to 3. The result equals three plain runs
    /// chained through the same checkpoints: 3 workers, then 2, then 3.
    /// </summary>
    [Fact]
    public async Task Survivors_of_a_pre_partitioned_graph_share_its_partitions_and_a_late_worker_grows_the_world_again()
    {
        using var directory = new TempDirectory();
        string checkpoints = Path.Combine(directory.Path, "elastic"), port = TestPorts.FreePair().ToString();
        string[] model = ["--model", "graphsage", "--graph", await PartitionedGraphAsync(directory), "--batch-size", "64", "--device", "cpu"];
        var secret = new Dictionary<string, string> { ["DTRAIN_JOB_SECRET"] = "elastic-secret" };
        var token = new Dictionary<string, string> { ["DTRAIN_JOB_TOKEN"] = await DtrainProcess.TokenAsync("elastic-secret", "elastic") };
        string[] settings = [.. model, "--steps", ElasticSteps, "--checkpoint-every", "10", "--checkpoint-dir", checkpoints, "--keep-checkpoints", "1000"];
        // The last call is long enough for all three to join the first epoch on a loaded machine (their start-up
        // varies by seconds), and it is what the survivors of the kill wait before they train on short-handed.
        using var coordinator = DtrainProcess.Start(
            ["coordinator", "--job-id", "elastic", "--workers", "3", "--min-workers", "2", "--last-call", "5", "--max-restarts", "1", "--port", port, .. settings], secret);
        string[] worker = ["worker", "--coordinator", $"http://127.0.0.1:{port}"];
        var workers = Enumerable.Range(0, 3).Select(_ => DtrainProcess.Start(worker, token)).ToList();
        try
        {
            await WaitForCheckpointsAsync(checkpoints, 3, coordinator);
            Process.GetProcessById(workers[1].Id).Kill();
            await coordinator.WaitForOutputAsync("restart 1 of 1)", Limit);
            await workers[0].WaitForOutputAsync("/2 of epoch 2", Limit);
            await workers[2].WaitForOutputAsync("/2 of epoch 2", Limit);
            await WaitForCheckpointsAsync(checkpoints, CommittedCheckpoints(checkpoints) + 2, coordinator);

            workers.Add(DtrainProcess.Start(worker, token));
            int exit = await coordinator.WaitAsync(Limit);
            Assert.True(exit == 0, $"the coordinator exited with {exit}: {coordinator.Stderr}\n{coordinator.Stdout}");
            Assert.All(workers.Where((_, i) => i != 1), w => Assert.Equal(0, w.WaitAsync(Limit).Result));
            Assert.Contains("/3 of epoch 3", workers[3].Stdout);
            Assert.Contains($"done: {ElasticSteps} steps on 3 workers", coordinator.Stdout);

            var resumed = Regex.Matches(coordinator.Stdout, @"restarting from step (\d+)").Select(m => m.Groups[1].Value).ToArray();
            Assert.Equal(2, resumed.Length);
            Assert.Matches(@"a worker joined epoch 2, which trained with fewer than 3 workers; reached step \d+, restarting from step \d+ \(\d+ steps lost\)", coordinator.Stdout);
            Assert.Equal(await ChainedDigestAsync(Path.Combine(directory.Path, "oracle"), model, resumed[0], resumed[1]), DtrainProcess.ParameterDigest(coordinator.Stdout));
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
        }
    }

    private const string ElasticSteps = "300";

    /// <summary>A small stochastic block model, cut by METIS into 3 partitions.</summary>
    private static async Task<string> PartitionedGraphAsync(TempDirectory directory)
    {
        string graph = directory.File("sbm.dtg"), parts = directory.File("parts");
        foreach (var command in new[] { new[] { "graph", "generate", "sbm", "nodes=3000", "seed=5", "--out", graph }, ["graph", "partition", graph, "--parts", "3", "--out", parts] })
        {
            var run = await DtrainProcess.RunAsync(Limit, command);
            Assert.True(run.ExitCode == 0, run.Stderr);
        }
        return parts;
    }

    /// <summary>The oracle of the elastic job: plain runs of 3, 2 and 3 workers, each resuming from the last one's final checkpoint.</summary>
    private static async Task<string> ChainedDigestAsync(string checkpoints, string[] model, string firstEnd, string secondEnd)
    {
        string last = "";
        foreach (var (workers, steps, resume) in new[] { ("3", firstEnd, false), ("2", secondEnd, true), ("3", ElasticSteps, true) })
        {
            string[] run = ["run", .. model, "--workers", workers, "--steps", steps, "--checkpoint-every", "10", "--checkpoint-dir", checkpoints, "--port", TestPorts.FreePair().ToString()];
            var result = await DtrainProcess.RunAsync(Limit, resume ? [.. run, "--resume"] : run);
            Assert.True(result.ExitCode == 0, result.Stderr);
            last = DtrainProcess.ParameterDigest(result.Stdout);
        }
        return last;
    }
}
