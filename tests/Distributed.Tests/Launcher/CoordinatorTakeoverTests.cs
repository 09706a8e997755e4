using System.Diagnostics;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Tests.Coordinator;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Launcher;

/// <summary>
/// With its state in a real Redis server, a job survives losing a coordinator: one killed in the middle of a job is
/// restarted and takes the job over, or a second coordinator of the same cluster carries on; either way the job ends
/// as if nothing had happened, and the workers never stopped.
/// </summary>
public class CoordinatorTakeoverTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private static readonly string[] Job = ["--steps", "1200", "--device", "cpu", "--checkpoint-every", "50", "--workers", "2"];

    /// <summary>The digest of the same job run without interruption, computed once for both tests.</summary>
    private static readonly Lazy<Task<string>> UninterruptedDigest = new(async () =>
    {
        var uninterrupted = await DtrainProcess.RunAsync(Limit, ["run", "--port", TestPorts.FreePair().ToString(), .. Job[..4], "--workers", "2"]);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Stderr);
        return DtrainProcess.ParameterDigest(uninterrupted.Stdout);
    });

    /// <summary>A job whose coordinators keep its state in <paramref name="Redis"/>: their command lines, the workers', and the environments of both.</summary>
    private sealed record RedisJob(RedisServer Redis, string Id, string CheckpointDir, string Token)
    {
        public Dictionary<string, string> CoordinatorEnvironment => new() { ["DTRAIN_JOB_SECRET"] = $"{Id}-secret" };

        public Dictionary<string, string> WorkerEnvironment => new() { ["DTRAIN_JOB_TOKEN"] = Token };

        public static async Task<RedisJob> CreateAsync(RedisServer redis, string id, string checkpointDir) =>
            new(redis, id, checkpointDir, await DtrainProcess.TokenAsync($"{id}-secret", id));

        /// <summary>gRPC on <paramref name="port"/>, metrics on + 1, the silo on + 2 and its gateway on + 3.</summary>
        public DtrainProcess StartCoordinator(int port) => DtrainProcess.Start(
            ["coordinator", "--job-id", Id, "--cluster", "redis", "--redis", Redis.Address, "--port", port.ToString(), .. Job, "--checkpoint-dir", CheckpointDir],
            CoordinatorEnvironment);

        public DtrainProcess StartWorker(int coordinatorPort) =>
            DtrainProcess.Start(["worker", "--coordinator", $"http://127.0.0.1:{coordinatorPort}", "--job-id", Id], WorkerEnvironment);
    }

    private static async Task WaitForCheckpointsAsync(string directory, int count, DtrainProcess coordinator)
    {
        var waited = Stopwatch.StartNew();
        while (!Directory.Exists(directory) || Directory.GetFiles(directory, CheckpointStore.ManifestName, SearchOption.AllDirectories).Length < count)
        {
            Assert.True(waited.Elapsed < Limit, $"no checkpoints within {Limit}: {coordinator.Stdout}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_killed_coordinator_restarted_on_redis_takes_over_the_running_job()
    {
        using var redis = await RedisServer.StartAsync();
        using var directory = new TempDirectory();
        var job = await RedisJob.CreateAsync(redis, "takeover", directory.Path);
        int port = TestPorts.FreeRun(4);

        using var first = job.StartCoordinator(port);
        await first.WaitForOutputAsync("waiting for 2 workers", Limit);
        using var a = job.StartWorker(port);
        using var b = job.StartWorker(port);
        await WaitForCheckpointsAsync(directory.Path, 2, first);
        Process.GetProcessById(first.Id).Kill();
        await first.WaitAsync(Limit);

        using var second = job.StartCoordinator(port);
        Assert.True(await second.WaitAsync(Limit) == 0, $"the second coordinator: {second.Stderr}{second.Stdout}");
        Assert.True(await a.WaitAsync(Limit) == 0, $"worker a: {a.Stderr}");
        Assert.True(await b.WaitAsync(Limit) == 0, $"worker b: {b.Stderr}");
        Assert.Matches(@"took over job takeover in epoch 1 \(2 workers joined, [0-2] finished\)", second.Stdout);
        Assert.Contains("rank 0/2 of epoch 1", a.Stdout + b.Stdout);
        // Nobody rejoined: the workers trained on through the coordinator's absence.
        Assert.DoesNotContain("of epoch 2", a.Stdout + b.Stdout);

        Assert.Equal(await UninterruptedDigest.Value, DtrainProcess.ParameterDigest(second.Stdout));
    }

    /// <summary>
    /// Two coordinators of one cluster; the one the workers do not talk to is killed. It started first, so it holds the
    /// job's grains. Until the cluster declares it dead they cannot be reached: the serving coordinator answers
    /// Unavailable, which the workers retry, and then activates them itself from their state in Redis.
    /// </summary>
    [Fact]
    public async Task Losing_the_other_coordinator_of_a_redis_cluster_ends_neither_the_job_nor_its_workers()
    {
        using var redis = await RedisServer.StartAsync();
        using var directory = new TempDirectory();
        var job = await RedisJob.CreateAsync(redis, "pair", directory.Path);
        int ports = TestPorts.FreeRun(8);

        using var other = job.StartCoordinator(ports + 4);
        await other.WaitForOutputAsync("waiting for 2 workers", Limit);
        using var serving = job.StartCoordinator(ports);
        await serving.WaitForOutputAsync("coordinator http", Limit);
        using var a = job.StartWorker(ports);
        using var b = job.StartWorker(ports);
        await WaitForCheckpointsAsync(directory.Path, 3, serving);
        Process.GetProcessById(other.Id).Kill();

        Assert.True(await serving.WaitAsync(Limit) == 0, $"the serving coordinator: {serving.Stderr}{serving.Stdout}");
        Assert.True(await a.WaitAsync(Limit) == 0, $"worker a: {a.Stderr}");
        Assert.True(await b.WaitAsync(Limit) == 0, $"worker b: {b.Stderr}");
        Assert.DoesNotContain("of epoch 2", a.Stdout + b.Stdout);
        Assert.Equal(await UninterruptedDigest.Value, DtrainProcess.ParameterDigest(serving.Stdout));
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
