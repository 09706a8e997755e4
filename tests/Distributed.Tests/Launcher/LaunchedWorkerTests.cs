using System.Diagnostics;
using Dtrain.Distributed;

namespace Dtrain.Tests.Launcher;

/// <summary>
/// `dtrain worker` processes started the way torchrun starts them, with nothing on the command line but the
/// command: RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, against a real `dtrain coordinator`.
/// </summary>
public class LaunchedWorkerTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    private static async Task<(DtrainProcess Coordinator, int Port, string Token)> StartCoordinatorAsync(string jobId, int steps = 30)
    {
        int port = TestPorts.FreePair();
        var coordinator = DtrainProcess.Start(
            ["coordinator", "--job-id", jobId, "--workers", "2", "--steps", steps.ToString(), "--device", "cpu", "--port", port.ToString()],
            new Dictionary<string, string> { ["DTRAIN_JOB_SECRET"] = "launch-secret" });
        await coordinator.WaitForOutputAsync("waiting for 2 workers", Limit);
        return (coordinator, port, await DtrainProcess.TokenAsync("launch-secret", jobId));
    }

    private static Dictionary<string, string> Torchrun(int rank, int worldSize, int port, string token) => new()
    {
        ["RANK"] = rank.ToString(), ["WORLD_SIZE"] = worldSize.ToString(), ["LOCAL_RANK"] = "0",
        ["MASTER_ADDR"] = "127.0.0.1", ["MASTER_PORT"] = port.ToString(), ["DTRAIN_JOB_TOKEN"] = token,
    };

    [Fact]
    public async Task Workers_started_by_torchrun_train_as_the_ranks_it_gave_them()
    {
        var (coordinator, port, token) = await StartCoordinatorAsync("torchrun");
        using var _ = coordinator;
        // Rank 1 starts first: the coordinator would give the first to join rank 0, had it not been told otherwise.
        using var second = DtrainProcess.Start(["worker"], Torchrun(1, 2, port, token));
        using var first = DtrainProcess.Start(["worker"], Torchrun(0, 2, port, token));

        Assert.True(await second.WaitAsync(Limit) == 0, second.Stderr);
        Assert.True(await first.WaitAsync(Limit) == 0, first.Stderr);
        Assert.True(await coordinator.WaitAsync(Limit) == 0, coordinator.Stderr);
        Assert.Contains("rank 1/2 of epoch 1", second.Stdout);
        Assert.Contains("rank 0/2 of epoch 1", first.Stdout);
    }

    /// <summary>
    /// A coordinator killed mid-job ends both its workers within their bounds (one set by flag, one by environment):
    /// each retries the coordinator that long, then exits with code 4 saying so. The first gives up sooner; the
    /// second's collective then fails, and its epoch change and rejoin wait on the coordinator in turn: they must not
    /// restart its count, which would keep it alive for longer than the two bounds together.
    /// </summary>
    [Fact]
    public async Task Workers_whose_coordinator_was_killed_exit_within_their_coordinator_loss_timeout()
    {
        var (coordinator, port, token) = await StartCoordinatorAsync("lost", steps: 1_000_000);
        using var _ = coordinator;
        using var first = DtrainProcess.Start(["worker", "--coordinator-loss-timeout", "2"], Torchrun(0, 2, port, token));
        var boundInEnvironment = Torchrun(1, 2, port, token);
        boundInEnvironment[JobEnvironment.CoordinatorLossSeconds] = "4";
        using var second = DtrainProcess.Start(["worker"], boundInEnvironment);
        await first.WaitForOutputAsync("rank 0/2 of epoch 1", Limit);
        await second.WaitForOutputAsync("rank 1/2 of epoch 1", Limit);

        Process.GetProcessById(coordinator.Id).Kill();
        var killed = Stopwatch.StartNew();
        await Task.WhenAll(AssertLostAsync(first, 2), AssertLostAsync(second, 4));

        async Task AssertLostAsync(DtrainProcess worker, int bound)
        {
            int code = await worker.WaitAsync(TimeSpan.FromSeconds(bound + 1.5));
            Assert.True(killed.Elapsed >= TimeSpan.FromSeconds(bound), $"a worker gave up after {killed.Elapsed.TotalSeconds:0.0} s of its {bound}");
            Assert.True(code == 4, $"exit code {code}: {worker.Stderr}");
            BadInputTests.AssertOneLineError(worker.Stderr, $"lost the coordinator at http://127.0.0.1:{port}: no answer for {bound} s");
        }
    }

    [Fact]
    public async Task A_worker_launched_for_another_world_size_than_the_coordinators_job_fails_saying_so()
    {
        var (coordinator, port, token) = await StartCoordinatorAsync("mismatch");
        using var _ = coordinator;
        using var worker = DtrainProcess.Start(["worker"], Torchrun(0, 3, port, token));

        Assert.Equal(1, await worker.WaitAsync(Limit));
        BadInputTests.AssertOneLineError(worker.Stderr, "this worker was launched as one of 3 workers, but the coordinator's job has 2");
    }

    [Fact]
    public async Task Conflicting_launch_variables_are_a_usage_error_before_anything_starts()
    {
        using var worker = DtrainProcess.Start(["worker"], new Dictionary<string, string>
        {
            ["RANK"] = "1", ["WORLD_SIZE"] = "2", ["JOB_COMPLETION_INDEX"] = "0", ["DTRAIN_COORDINATOR"] = "http://127.0.0.1:1", ["DTRAIN_JOB_TOKEN"] = "t",
        });

        Assert.Equal(2, await worker.WaitAsync(Limit));
        BadInputTests.AssertOneLineError(worker.Stderr, "RANK=1 and JOB_COMPLETION_INDEX=0 disagree");
    }
}
