using System.Diagnostics;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Tests.Coordinator;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Launcher;

/// <summary>
/// Issue 7's test 4: with its state in a real Redis server, a coordinator killed in the middle of a job is
/// restarted, takes the job over, and the job ends as if nothing had happened; the workers never stopped.
/// </summary>
public class CoordinatorTakeoverTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_killed_coordinator_restarted_on_redis_takes_over_the_running_job()
    {
        using var redis = await RedisServer.StartAsync();
        using var directory = new TempDirectory();
        var secret = new Dictionary<string, string> { ["DTRAIN_JOB_SECRET"] = "takeover-secret" };
        var token = new Dictionary<string, string> { ["DTRAIN_JOB_TOKEN"] = await DtrainProcess.TokenAsync("takeover-secret", "takeover") };
        // gRPC on P, metrics on P + 1, the silo on P + 2 and its gateway on P + 3.
        string port = TestPorts.FreeRun(4).ToString();
        string[] job = ["--steps", "1200", "--device", "cpu", "--checkpoint-every", "50", "--checkpoint-dir", directory.Path, "--workers", "2"];
        string[] coordinator = ["coordinator", "--job-id", "takeover", "--cluster", "redis", "--redis", redis.Address, "--port", port, .. job];

        using var first = DtrainProcess.Start(coordinator, secret);
        await first.WaitForOutputAsync("waiting for 2 workers", Limit);
        string[] worker = ["worker", "--coordinator", $"http://127.0.0.1:{port}", "--job-id", "takeover"];
        using var a = DtrainProcess.Start(worker, token);
        using var b = DtrainProcess.Start(worker, token);
        var waited = Stopwatch.StartNew();
        while (!Directory.Exists(directory.Path) || Directory.GetFiles(directory.Path, CheckpointStore.ManifestName, SearchOption.AllDirectories).Length < 2)
        {
            Assert.True(waited.Elapsed < Limit, $"no checkpoints within {Limit}: {first.Stdout}");
            await Task.Delay(20);
        }
        Process.GetProcessById(first.Id).Kill();
        await first.WaitAsync(Limit);

        using var second = DtrainProcess.Start(coordinator, secret);
        Assert.True(await second.WaitAsync(Limit) == 0, $"the second coordinator: {second.Stderr}{second.Stdout}");
        Assert.True(await a.WaitAsync(Limit) == 0, $"worker a: {a.Stderr}");
        Assert.True(await b.WaitAsync(Limit) == 0, $"worker b: {b.Stderr}");
        Assert.Matches(@"took over job takeover in epoch 1 \(2 workers joined, [0-2] finished\)", second.Stdout);
        Assert.Contains("rank 0/2 of epoch 1", a.Stdout + b.Stdout);
        // Nobody rejoined: the workers trained on through the coordinator's absence.
        Assert.DoesNotContain("of epoch 2", a.Stdout + b.Stdout);

        var uninterrupted = await DtrainProcess.RunAsync(Limit, ["run", "--port", TestPorts.FreePair().ToString(), .. job[..4], "--workers", "2"]);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Stderr);
        Assert.Equal(DtrainProcess.ParameterDigest(uninterrupted.Stdout), DtrainProcess.ParameterDigest(second.Stdout));
    }

    [Fact]
    public async Task A_coordinator_without_its_redis_server_says_so_in_one_line()
    {
        int unused = TestPorts.FreeRun(1);
        using var coordinator = DtrainProcess.Start(
            ["coordinator", "--cluster", "redis", "--redis", $"127.0.0.1:{unused}", "--port", TestPorts.FreeRun(4).ToString()],
            new Dictionary<string, string> { ["DTRAIN_JOB_SECRET"] = "s" });

        Assert.Equal(1, await coordinator.WaitAsync(Limit));
        Assert.Equal($"dtrain: error: cannot reach Redis at 127.0.0.1:{unused}: It was not possible to connect to the redis server(s)", coordinator.Stderr.Trim());
    }
}
