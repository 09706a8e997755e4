using System.Diagnostics;
using System.Text.Json;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Tests.Graph;
using Dtrain.Tests.Launcher;

namespace Dtrain.Tests.Checkpoints;

/// <summary>Checkpoints through `dtrain run`: real worker processes write shards, the coordinator commits them.</summary>
public class CheckpointRunTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    private static async Task<string> RunAsync(params string[] arguments)
    {
        var run = await DtrainProcess.RunAsync(Limit, ["run", "--device", "cpu", "--port", TestPorts.FreePair().ToString(), .. arguments]);
        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}; stderr: {run.Stderr}");
        return DtrainProcess.ParameterDigest(run.Stdout);
    }

    [Fact]
    public async Task A_resumed_run_ends_bitwise_where_the_uninterrupted_run_ends_passing_over_a_corrupted_checkpoint()
    {
        using var directory = new TempDirectory();
        string uninterrupted = await RunAsync("--steps", "40", "--checkpoint-every", "10", "--checkpoint-dir", directory.Path);
        // The newest checkpoint is gone and the one before it has a flipped byte: the resume must start at step 20.
        Directory.Delete(CheckpointStore.DirectoryOf(directory.Path, 40), recursive: true);
        string shard = Path.Combine(CheckpointStore.DirectoryOf(directory.Path, 30), CheckpointStore.ShardName(1));
        Corrupt.FlipBits(shard, 0x01);

        var resumed = await DtrainProcess.RunAsync(Limit, "run", "--device", "cpu", "--port", TestPorts.FreePair().ToString(),
            "--steps", "40", "--checkpoint-every", "10", "--checkpoint-dir", directory.Path, "--resume");

        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains($"{shard} is corrupted", resumed.Stdout);
        Assert.Contains("(step 20)", resumed.Stdout);
        Assert.Equal(uninterrupted, DtrainProcess.ParameterDigest(resumed.Stdout));
        // The check must be able to fail: a run of other length ends elsewhere.
        Assert.NotEqual(uninterrupted, await RunAsync("--steps", "39"));
    }

    /// <summary>Distributed Shampoo's block state and GraphSAGE (resumed mid-epoch: 24 batches per epoch here) replay bitwise too.</summary>
    [Theory]
    [InlineData("--optimizer", "shampoo")]
    [InlineData("--model", "graphsage", "--batch-size", "128")]
    public async Task Shampoo_and_graphsage_resume_bitwise(params string[] job)
    {
        using var directory = new TempDirectory();
        string uninterrupted = await RunAsync([.. job, "--steps", "40", "--checkpoint-every", "10", "--checkpoint-dir", directory.Path]);
        Directory.Delete(CheckpointStore.DirectoryOf(directory.Path, 40), recursive: true);

        string resumed = await RunAsync([.. job, "--steps", "40", "--checkpoint-dir", directory.Path, "--resume"]);

        Assert.Equal(uninterrupted, resumed);
    }

    /// <summary>
    /// cannon-mlp: each rank of a 2 x 2 grid writes its own weight blocks. The resume passes over a corrupted shard
    /// and ends bitwise where the uninterrupted run ends.
    /// </summary>
    [Fact]
    public async Task A_tensor_parallel_run_resumes_bitwise_on_its_grid()
    {
        using var directory = new TempDirectory();
        string[] job = ["--model", "cannon-mlp", "--steps", "15", "--checkpoint-dir", directory.Path];
        string uninterrupted = await RunAsync([.. job, "--workers", "4", "--checkpoint-every", "5"]);
        Directory.Delete(CheckpointStore.DirectoryOf(directory.Path, 15), recursive: true);
        string shard = Path.Combine(CheckpointStore.DirectoryOf(directory.Path, 10), CheckpointStore.ShardName(3));
        Corrupt.FlipBits(shard, 0x01);

        var resumed = await DtrainProcess.RunAsync(Limit, ["run", "--device", "cpu", "--port", TestPorts.FreePair().ToString(), .. job, "--workers", "4", "--resume"]);

        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains($"{shard} is corrupted", resumed.Stdout);
        Assert.Contains("(step 5)", resumed.Stdout);
        Assert.Equal(uninterrupted, DtrainProcess.ParameterDigest(resumed.Stdout));
    }

    /// <summary>
    /// A cannon-mlp checkpoint loads onto a grid of another shape: the weights re-blocked exactly, in both directions
    /// (2 x 2 to 1 x 1 and back), and Adam's state with them, so that a run trained on elsewhere follows the loss of
    /// the run that never stopped (the grids differ only in float rounding).
    /// </summary>
    [Fact]
    public async Task A_tensor_parallel_checkpoint_re_blocks_onto_a_grid_of_another_shape()
    {
        using var directory = new TempDirectory();
        string written = Path.Combine(directory.Path, "written"), single = Path.Combine(directory.Path, "single");
        string atFive = await RunAsync("--model", "cannon-mlp", "--workers", "4", "--steps", "5", "--checkpoint-every", "5", "--checkpoint-dir", written);

        // Loaded and not trained further: the same weights, bitwise.
        Assert.Equal(atFive, await RunAsync("--model", "cannon-mlp", "--workers", "1", "--steps", "5", "--checkpoint-dir", written, "--resume"));
        string alone = await RunAsync("--model", "cannon-mlp", "--workers", "1", "--steps", "5", "--checkpoint-every", "5", "--checkpoint-dir", single);
        Assert.Equal(alone, await RunAsync("--model", "cannon-mlp", "--workers", "4", "--steps", "5", "--checkpoint-dir", single, "--resume"));

        // The oracle trains on the 2 x 2 grid without a break, so it reads no checkpoint.
        double resumedOnOneRank = await FinalLossAsync("--workers", "1", "--steps", "15", "--checkpoint-dir", written, "--resume");
        double uninterrupted = await FinalLossAsync("--workers", "4", "--steps", "15");
        Assert.True(Math.Abs(resumedOnOneRank - uninterrupted) <= 1e-6 * uninterrupted, $"loss {resumedOnOneRank} resumed on one rank, {uninterrupted} uninterrupted on four");
    }

    /// <summary>The precise final loss of a cannon-mlp run, from its JSON summary.</summary>
    private static async Task<double> FinalLossAsync(params string[] arguments)
    {
        var run = await DtrainProcess.RunAsync(Limit, ["run", "--json", "--model", "cannon-mlp", "--device", "cpu", "--port", TestPorts.FreePair().ToString(), .. arguments]);
        Assert.True(run.ExitCode == 0, $"exit code {run.ExitCode}; stderr: {run.Stderr}");
        using var summary = JsonDocument.Parse(run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        return summary.RootElement.GetProperty("final_loss").GetDouble();
    }

    /// <summary>
    /// A checkpoint loads onto another world size, but not into a shorter job, nor into another job (another seed):
    /// a new run of that job is refused before any worker starts, as is its resume, and neither writes anything there.
    /// </summary>
    [Fact]
    public async Task A_checkpoint_from_two_workers_loads_onto_three_but_not_into_a_shorter_job_or_another_one()
    {
        using var directory = new TempDirectory();
        await RunAsync("--steps", "20", "--checkpoint-every", "20", "--checkpoint-dir", directory.Path, "--job-id", "seed-one");
        string[] other = ["run", "--device", "cpu", "--port", TestPorts.FreePair().ToString(), "--seed", "5", "--steps", "30", "--checkpoint-every", "5", "--checkpoint-dir", directory.Path];
        var fresh = await DtrainProcess.RunAsync(Limit, other);
        var otherResumed = await DtrainProcess.RunAsync(Limit, [.. other, "--resume"]);
        Assert.Equal((2, 2), (fresh.ExitCode, otherResumed.ExitCode));
        BadInputTests.AssertOneLineError(fresh.Stderr, $"the checkpoint directory {directory.Path} holds checkpoints of another job (step 20, job seed-one " +
            "(model mlp, optimizer adam, seed 1, 2 workers)): give another --checkpoint-dir, or --resume to train on from them");
        BadInputTests.AssertOneLineError(otherResumed.Stderr, $"the checkpoint directory {directory.Path} holds no checkpoint of this job, only another job's (step 20, " +
            "job seed-one (model mlp, optimizer adam, seed 1, 2 workers): it was written with seed 1, and this job has seed 5): resume with that job's settings, or give another --checkpoint-dir");
        Assert.Equal([20L], CheckpointStore.Committed(directory.Path).Select(c => c.Step));

        var shorter = await DtrainProcess.RunAsync(Limit, "run", "--device", "cpu", "--port", TestPorts.FreePair().ToString(),
            "--steps", "10", "--checkpoint-dir", directory.Path, "--resume");
        Assert.Equal(2, shorter.ExitCode);
        BadInputTests.AssertOneLineError(shorter.Stderr, $"the newest checkpoint in {directory.Path} is of step 20, past the job's 10 steps: give --steps 20 or more to resume it");

        var resumed = await DtrainProcess.RunAsync(Limit, "run", "--device", "cpu", "--port", TestPorts.FreePair().ToString(),
            "--workers", "3", "--steps", "30", "--checkpoint-dir", directory.Path, "--resume");

        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("(step 20)", resumed.Stdout);
        Assert.Contains("done: 30 steps on 3 workers", resumed.Stdout);
    }

    /// <summary>
    /// A worker killed while the job checkpoints every step, so the kill often lands mid-write: every committed
    /// checkpoint stays whole, and a run resumed from the newest ends where an uninterrupted run ends.
    /// </summary>
    [Fact]
    public async Task A_worker_killed_while_checkpointing_leaves_only_whole_checkpoints_to_resume_from()
    {
        using var directory = new TempDirectory();
        using (var job = DtrainProcess.Start(["run", "--device", "cpu", "--port", TestPorts.FreePair().ToString(), "--steps", "1000000",
            "--checkpoint-every", "1", "--keep-checkpoints", "1000000", "--checkpoint-dir", directory.Path]))
        {
            var waited = Stopwatch.StartNew();
            while (Directory.GetFiles(directory.Path, CheckpointStore.ManifestName, SearchOption.AllDirectories).Length < 5 + new Random().Next(20))
            {
                Assert.True(waited.Elapsed < Limit, $"no checkpoints committed within {Limit}; stdout: {job.Stdout}");
                await Task.Delay(10);
            }
            Process.GetProcessById(job.Children()[0]).Kill();
            Assert.Equal(1, await job.WaitAsync(Limit));
        }

        var latest = CheckpointStore.LatestValid(directory.Path, out var skipped);
        Assert.Empty(skipped);
        Assert.NotNull(latest);
        string steps = (latest.Step + 5).ToString();
        string resumed = await RunAsync("--steps", steps, "--checkpoint-dir", directory.Path, "--resume");
        string uninterrupted = await RunAsync("--steps", steps);
        Assert.Equal(uninterrupted, resumed);
    }
}
