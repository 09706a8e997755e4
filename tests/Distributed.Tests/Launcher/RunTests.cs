using System.Globalization;
using System.Text.RegularExpressions;
using Dtrain.Tests.Models.Data;

namespace Dtrain.Tests.Launcher;

/// <summary>`dtrain run` end to end: a real silo, real worker processes, a real gRPC ring between them.</summary>
public class RunTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Two_workers_train_thirty_steps_and_leave_no_process_behind()
    {
        using var dtrain = DtrainProcess.Start(["run", "--workers", "2", "--steps", "30", "--device", "cpu", "--port", FreePort()]);
        var workers = new HashSet<int>();
        var exited = dtrain.WaitAsync(Limit);
        while (!exited.IsCompleted)
        {
            workers.UnionWith(dtrain.Children());
            await Task.Delay(20);
        }

        int code = await exited;
        Assert.True(code == 0, $"exit code {code}; stderr: {dtrain.Stderr}");
        Assert.Contains("rank 0/2 of epoch 1 on cpu", dtrain.Stdout);
        Assert.Contains("rank 1/2 of epoch 1 on cpu", dtrain.Stdout);
        var summary = Regex.Match(dtrain.Stdout,
            @"done: 30 steps on 2 workers, final loss (\S+), held-out accuracy (\S+) %, wall time \S+ s, parameters identical on all ranks");
        Assert.True(summary.Success, dtrain.Stdout);
        Assert.True(double.Parse(summary.Groups[2].Value, CultureInfo.InvariantCulture) > 50, summary.Value);
        Assert.Equal(2, workers.Count);
        Assert.DoesNotContain(workers, DtrainProcess.IsRunning);
    }

    [DatasetFact("fortunes")]
    public async Task The_built_in_language_model_trains_on_a_text_corpus_beyond_its_byte_frequencies()
    {
        var run = await DtrainProcess.RunAsync(Limit,
            ["run", "--model", "transformer-lm", "--data", Datasets.PathOf("fortunes"), "--steps", "80", "--batch-size", "16", "--lr", "0.01", "--device", "cpu", "--port", FreePort()]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var summary = Regex.Match(run.Stdout, @"done: 80 steps on 2 workers, final loss (\S+), held-out accuracy (\S+) %");
        Assert.True(summary.Success, run.Stdout);
        // The unigram baseline of the held-out bytes is 3.34 nats; the most frequent byte (a space) is about 16 % of them.
        Assert.True(double.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture) < 3.0, summary.Value);
        Assert.True(double.Parse(summary.Groups[2].Value, CultureInfo.InvariantCulture) > 20, summary.Value);
    }

    [Fact]
    public async Task Four_tensor_parallel_workers_end_where_one_process_ends()
    {
        string[] job = ["run", "--model", "cannon-mlp", "--steps", "60", "--device", "cpu"];
        var grid = await DtrainProcess.RunAsync(Limit, [.. job, "--workers", "4", "--port", FreePort()]);
        var single = await DtrainProcess.RunAsync(Limit, [.. job, "--workers", "1", "--port", FreePort()]);

        Assert.True(grid.ExitCode == 0, grid.Stderr);
        Assert.True(single.ExitCode == 0, single.Stderr);
        var pattern = new Regex(@"done: 60 steps on \d workers, final loss (\S+), held-out accuracy (\S+) %");
        var (gridEnd, singleEnd) = (pattern.Match(grid.Stdout), pattern.Match(single.Stdout));
        Assert.True(gridEnd.Success && singleEnd.Success, grid.Stdout + single.Stdout);
        // Float rounding differs between a grid and one process; the training must not. The loss falls far more
        // than this tolerance over the run (from about 0.7).
        double Number(Match end, int group) => double.Parse(end.Groups[group].Value, CultureInfo.InvariantCulture);
        Assert.InRange(Number(gridEnd, 1), Number(singleEnd, 1) - 2e-4, Number(singleEnd, 1) + 2e-4);
        Assert.InRange(Number(gridEnd, 2), Number(singleEnd, 2) - 0.1, Number(singleEnd, 2) + 0.1);
        Assert.True(Number(gridEnd, 2) > 90, gridEnd.Value);
    }

    [Fact]
    public async Task A_worker_that_dies_fails_the_run_and_the_other_workers_are_stopped()
    {
        using var dtrain = DtrainProcess.Start(["run", "--workers", "2", "--steps", "1000000", "--device", "cpu", "--port", FreePort()]);
        await dtrain.WaitForOutputAsync("rank 1/2", Limit);
        var workers = dtrain.Children();
        Assert.Equal(2, workers.Count);

        System.Diagnostics.Process.GetProcessById(workers[0]).Kill();

        Assert.Equal(1, await dtrain.WaitAsync(Limit));
        Assert.Matches(@"dtrain: error: worker \d failed \(exit code 137\)", dtrain.Stderr);
        Assert.DoesNotContain(workers, DtrainProcess.IsRunning);
    }

    [Fact]
    public async Task A_standalone_coordinator_and_separately_started_workers_train_the_job()
    {
        string port = FreePort();
        using var coordinator = DtrainProcess.Start(["coordinator", "--job-id", "shared", "--workers", "2", "--steps", "20", "--device", "cpu", "--port", port],
            new Dictionary<string, string> { ["DTRAIN_JOB_SECRET"] = "a-shared-secret" });
        await coordinator.WaitForOutputAsync("waiting for 2 workers", Limit);

        var token = new Dictionary<string, string> { ["DTRAIN_JOB_TOKEN"] = await DtrainProcess.TokenAsync("a-shared-secret", "shared") };
        string[] worker = ["worker", "--coordinator", $"http://127.0.0.1:{port}", "--job-id", "shared"];
        using var first = DtrainProcess.Start(worker, token);
        using var second = DtrainProcess.Start(worker, token);

        Assert.Equal(0, await first.WaitAsync(Limit));
        Assert.Equal(0, await second.WaitAsync(Limit));
        Assert.Equal(0, await coordinator.WaitAsync(Limit));
        Assert.Contains("done: 20 steps on 2 workers", coordinator.Stdout);
        Assert.Equal(["rank 0/2", "rank 1/2"], new[] { first.Stdout, second.Stdout }.Select(o => o[..8]).Order());
    }

    [Fact]
    public async Task Under_mpiexec_the_mpi_transport_trains_to_the_same_parameters_as_grpc()
    {
        string[] job = ["run", "--workers", "2", "--steps", "20", "--device", "cpu"];
        var mpi = await DtrainProcess.RunAsync(Limit, [.. job, "--transport", "mpi", "--port", FreePort()]);
        var grpc = await DtrainProcess.RunAsync(Limit, [.. job, "--transport", "grpc", "--port", FreePort()]);

        Assert.True(mpi.ExitCode == 0, mpi.Stderr);
        Assert.True(grpc.ExitCode == 0, grpc.Stderr);
        // Both transports run the same ring, so the parameters agree bitwise.
        Assert.Equal(DtrainProcess.ParameterDigest(grpc.Stdout), DtrainProcess.ParameterDigest(mpi.Stdout));
    }

    /// <summary>
    /// A rank killed under mpiexec: the error names the rank and how it ended, in one line, instead of mpiexec's
    /// banner ("BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES"), which stays in the worker log.
    /// </summary>
    [Fact]
    public async Task A_killed_mpi_rank_is_named_in_the_error_line()
    {
        using var dtrain = DtrainProcess.Start(["run", "--workers", "2", "--steps", "1000000", "--device", "cpu", "--transport", "mpi", "--port", FreePort()]);
        await dtrain.WaitForOutputAsync("rank 0/2", Limit);
        await dtrain.WaitForOutputAsync("rank 1/2", Limit);
        await Task.Delay(TimeSpan.FromSeconds(1));   // training, and the launcher has seen every rank's process
        // dtrain, then mpiexec, then Hydra's proxy, then the ranks.
        var ranks = DtrainProcess.ChildrenOf(DtrainProcess.ChildrenOf(Assert.Single(dtrain.Children())).Single());
        var rankOf = ranks.ToDictionary(pid => pid, pid => File.ReadAllText($"/proc/{pid}/environ").Split('\0').Single(v => v.StartsWith("PMI_RANK="))["PMI_RANK=".Length..]);
        int victim = ranks[new Random(6).Next(ranks.Count)];

        System.Diagnostics.Process.GetProcessById(victim).Kill();

        Assert.Equal(1, await dtrain.WaitAsync(Limit));
        // mpiexec reports the first rank it saw end: mostly the killed one, but under load sometimes the survivor,
        // which aborts when its peer's connection breaks. Either is named by its rank and process.
        var error = Assert.Single(dtrain.Stderr.Trim().Split('\n'));
        int named = int.Parse(Regex.Match(error, @"\(process (\d+)\)").Groups[1].Value);
        string how = named == victim ? Regex.Escape("ended by signal 9 (killed)") : @"(ended by signal \d+ \([a-z ]+\)|exited with code \d+)";
        Assert.Matches($@"^dtrain: error: worker 0 failed \(exit code \d+\): rank {rankOf[named]} \(process {named}\) {how}; mpiexec ended the other ranks$", error);
        Assert.DoesNotContain("BAD TERMINATION", dtrain.Stdout);
        Assert.DoesNotContain(ranks, DtrainProcess.IsRunning);
    }

    [Fact]
    public async Task Distributed_shampoo_trains_across_worker_processes_with_identical_parameters()
    {
        var run = await DtrainProcess.RunAsync(Limit, "run", "--optimizer", "shampoo", "--workers", "2", "--steps", "30", "--device", "cpu", "--port", FreePort());
        Assert.True(run.ExitCode == 0, run.Stderr);
        // The launcher fails the run unless every rank ended with the same parameter digest.
        Assert.Contains("parameters identical on all ranks", run.Stdout);
    }

    /// <summary>The shampoo section reaches the workers: replicated preconditioners (groups of 1), bf16 directions.</summary>
    [Fact]
    public async Task A_job_files_shampoo_section_configures_the_workers()
    {
        string path = Path.Combine(Path.GetTempPath(), $"dtrain-job-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, "optimizer: shampoo\nshampoo:\n  precondition_frequency: 5\n  grafting: adam\n  num_trainers_per_group: 1\n  communication_dtype: bf16\n");
        try
        {
            var run = await DtrainProcess.RunAsync(Limit, "run", path, "--workers", "2", "--steps", "20", "--device", "cpu", "--port", FreePort());
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Contains("parameters identical on all ranks", run.Stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }


    private static string FreePort() => TestPorts.FreePair().ToString();
}
