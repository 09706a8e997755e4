using System.Net;
using System.Net.Sockets;

namespace Dtrain.Tests.Launcher;

/// <summary>Every user error ends with one clear line on stderr, a non-zero exit, and no stack trace.</summary>
public class BadInputTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    internal static void AssertOneLineError(string stderr, string expected)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got: {stderr}");
        Assert.StartsWith("dtrain: error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }

    [Theory]
    [InlineData("unknown option '--bogus'", "run", "--bogus")]
    [InlineData("'--bogus'", "run", "--workers", "2", "--bogus", "1")]
    [InlineData("workers must be at least 1, got 0", "run", "--workers", "0")]
    [InlineData("device must be one of cpu, cuda, auto, got 'tpu'", "run", "--device", "tpu")]
    [InlineData("--steps", "run", "--steps", "many")]
    [InlineData("transport must be one of grpc, mpi, got 'tcp'", "run", "--transport", "tcp")]
    [InlineData("compression must be one of none, bf16, got 'fp8'", "run", "--compression", "fp8")]
    [InlineData("--overlap must be true or false, got 'maybe'", "run", "--overlap", "maybe")]
    [InlineData("cannot read job file", "run", "/nonexistent/job.yaml")]
    [InlineData("model transformer-lm trains on a text corpus: give data (--data FILE or DIRECTORY)", "run", "--model", "transformer-lm")]
    [InlineData("data: /nonexistent/corpus.txt: no such file or directory", "run", "--model", "transformer-lm", "--data", "/nonexistent/corpus.txt")]
    [InlineData("only `dtrain run [options] -- PROGRAM [ARGS...]` takes a program after --, and it needs one", "run", "--workers", "2", "--")]
    [InlineData("only `dtrain run [options] -- PROGRAM [ARGS...]` takes a program after --", "status", "--", "ls")]
    [InlineData("checkpoints.every and checkpoints.resume need a checkpoints.dir (--checkpoint-dir)", "run", "--checkpoint-every", "5")]
    [InlineData("checkpoints.keep must be at least 1, got 0", "run", "--keep-checkpoints", "0")]
    [InlineData("max_restarts must be 0 or more, got -1", "run", "--max-restarts", "-1")]
    [InlineData("heartbeat_timeout_s must be a positive number, got 0", "run", "--heartbeat-timeout", "0")]
    [InlineData("--ranks must be at least 1, got 0", "bench", "shampoo", "--ranks", "0")]
    [InlineData("--frequencies: '0' is not a positive integer", "bench", "shampoo", "--frequencies", "1,0")]
    [InlineData("--frequencies: 'ten' is not a positive integer", "bench", "shampoo", "--frequencies", "ten")]
    [InlineData("--width must be at least 1, got 0; --steps must be at least 1, got 0", "bench", "shampoo", "--width", "0", "--steps", "0")]
    [InlineData("--ranks and --iters must be at least 1", "bench", "collectives", "--ranks", "0")]
    [InlineData("--heads must divide --width 128, got 3; --steps must be at least 1, got 0", "bench", "overhead", "--model", "transformer-lm", "--heads", "3", "--steps", "0")]
    [InlineData("--overlap must be true or false, got 'no'", "bench", "overhead", "--overlap", "no")]
    [InlineData("Unrecognized command or argument 'trian'", "trian")]
    [InlineData("--quiet and --json cannot be combined", "run", "--quiet", "--json")]
    [InlineData("no run directory /nonexistent/run", "report", "/nonexistent/run")]
    [InlineData("--job-id: job id '../../../x' must be a DNS label: 1 to 63 lower-case letters", "run", "--job-id", "../../../x")]
    [InlineData("--job-id: job id 'a\\u000ab' must be a DNS label", "coordinator", "--job-id", "a\nb")]
    [InlineData("--job-id: job id '' must be a DNS label", "token", "--job-id", "")]
    [InlineData("--job-id: job id 'x y' must be a DNS label", "worker", "--job-id", "x y")]
    [InlineData("job file /dev/zero is larger than 1 MiB, the most a job file may hold", "run", "/dev/zero")]
    [InlineData("elastic.last_call_s must be at most 604800 seconds (7 days), got 1E+300", "run", "--last-call", "1e300")]
    [InlineData("elastic.join_timeout_s must be at most 604800 seconds (7 days), got 1E+300", "run", "--join-timeout", "1e300")]
    [InlineData("collective_timeout_s must be at most 604800 seconds (7 days), got 1E+300", "run", "--collective-timeout", "1e300")]
    [InlineData("lr must be a number, got 'NaN'", "run", "--lr", "NaN")]
    [InlineData("batch_size 10000 on 2 workers takes 20000 samples a step, more than the 16384 training samples of model mlp", "run", "--batch-size", "10000")]
    [InlineData("checkpoints.dir /dev/null is a file, not a directory", "run", "--checkpoint-dir", "/dev/null", "--checkpoint-every", "5")]
    [InlineData("checkpoints.dir /proc/dtrain-checkpoints: cannot write in /proc (not a writable directory)", "run", "--checkpoint-dir", "/proc/dtrain-checkpoints", "--checkpoint-every", "5")]
    [InlineData("--peer-port must be a TCP port, 0 to 65535 (0 picks a free one), got 99999", "worker", "--peer-port", "99999")]
    [InlineData("--metrics-port must be a TCP port, 0 to 65535 (0 picks a free one), got -1", "worker", "--metrics-port", "-1")]
    [InlineData("--listen must be an IP address to listen on, such as 127.0.0.1 or 0.0.0.0, got 'notanip'", "worker", "--listen", "notanip")]
    [InlineData("--listen must be an IP address to listen on, such as 127.0.0.1 or 0.0.0.0, got 'notanip'", "coordinator", "--listen", "notanip")]
    [InlineData("--advertise must be a host name or IP address, got 'a b'", "worker", "--advertise", "a b")]
    [InlineData("--connect-timeout must be at most 604800 seconds (7 days), got 1E+300", "worker", "--connect-timeout", "1e300")]
    [InlineData("--coordinator must be an http:// or https:// address such as http://127.0.0.1:29500, got 'garbage'", "status", "--coordinator", "garbage")]
    [InlineData("--out /tmp is a directory; give a file name", "graph", "generate", "karate", "--out", "/tmp")]
    [InlineData("--out /proc/karate.dtg: cannot write in /proc", "graph", "generate", "karate", "--out", "/proc/karate.dtg")]
    [InlineData("--out /dev/null is a file, not a directory", "graph", "partition", "/nonexistent.dtg", "--parts", "2", "--out", "/dev/null")]
    [InlineData("--coordinator-loss-timeout must be a positive number, got 0", "worker", "--coordinator-loss-timeout", "0")]
    [InlineData("--linger must be 0 or more seconds, got -1", "run", "--linger", "-1")]
    public async Task Usage_errors_exit_with_code_2(string expected, params string[] arguments)
    {
        var (code, _, stderr) = await DtrainProcess.RunAsync(Limit, arguments);
        Assert.Equal(2, code);
        AssertOneLineError(stderr, expected);
    }

    [Theory]
    [InlineData("the job secret is missing: set DTRAIN_JOB_SECRET", "", "coordinator", "--workers", "1")]
    [InlineData("the job secret is missing: set DTRAIN_JOB_SECRET", "", "token", "--job-id", "job")]
    [InlineData("Option '--job-id' is required", "secret", "token")]
    [InlineData("dtrain run derives the job token from DTRAIN_JOB_SECRET: set that instead of DTRAIN_JOB_TOKEN", "", "run")]
    public async Task A_missing_secret_is_a_usage_error(string expected, string secret, params string[] arguments)
    {
        using var dtrain = DtrainProcess.Start(arguments, new Dictionary<string, string>
        {
            ["DTRAIN_JOB_SECRET"] = secret, ["DTRAIN_JOB_TOKEN"] = arguments[0] == "run" ? "a-token-without-its-secret" : "",
        });
        Assert.Equal(2, await dtrain.WaitAsync(Limit));
        AssertOneLineError(dtrain.Stderr, expected);
    }

    [Theory]
    [InlineData("DTRAIN_COORDINATOR_LOSS_TIMEOUT", "DTRAIN_COORDINATOR_LOSS_TIMEOUT=soon is not a number of seconds (more than 0, at most 604800)")]
    [InlineData("DTRAIN_METRICS_PORT", "DTRAIN_METRICS_PORT=soon is not a port (0 to 65535)")]
    public async Task A_malformed_worker_variable_is_a_usage_error(string variable, string expected)
    {
        using var dtrain = DtrainProcess.Start(["worker"], new Dictionary<string, string> { [variable] = "soon", ["DTRAIN_JOB_TOKEN"] = "t" });
        Assert.Equal(2, await dtrain.WaitAsync(Limit));
        AssertOneLineError(dtrain.Stderr, expected);
    }

    [Theory]
    [InlineData("workers: 2\nstepz: 10\n", "line 2: unknown field 'stepz'")]
    [InlineData("workers: two\n", "line 1: workers must be a whole number, got 'two'")]
    [InlineData("workers: 2\n  steps: [\n", "line 2: not valid YAML")]
    [InlineData("batch_size: 0\nlr: -1\n", "batch_size must be at least 1, got 0; lr must be a positive number, got -1")]
    [InlineData("optimizer: shampoo\nshampoo:\n  precondition_freq: 5\n", "line 3: unknown field 'shampoo.precondition_freq' (known: learning_rate, peak_learning_rate, beta1")]
    [InlineData("shampoo:\n  grafting: lion\n", "line 2: shampoo.grafting must be one of none, sgd, adagrad, rmsprop, adam, got 'lion'")]
    [InlineData("workers: 3\nshampoo:\n  num_trainers_per_group: 2\n  beta2: 0\n", "shampoo.beta2 must be in (0, 1], got 0; shampoo.num_trainers_per_group 2 does not divide workers 3")]
    [InlineData("shampoo: {epsilon: NaN}\n", "line 1: shampoo.epsilon must be a number, got 'NaN'")]
    [InlineData("optimizer: shampoo\nshampoo:\n  beta1: .nan\n", "line 3: shampoo.beta1 must be a number, got '.nan'")]
    [InlineData("lr: 1e999\n", "line 1: lr must be a number, got '1e999'")]
    [InlineData("shampoo:\n  inverse_exponent_override: {2: [NaN]}\n", "line 2: shampoo.inverse_exponent_override must be a map of whole numbers to lists of numbers")]
    [InlineData("!!str workers: 2\nworkers: 3\n", "line 2: duplicate key 'workers' (first at line 1)")]
    [InlineData("workers: 2\nsteps: 5\nworkers: 3\n", "line 3: not valid YAML: Duplicate key workers")]
    [InlineData("workers: 2\n---\nworkers: 3\n", "line 3: a second YAML document; a job file holds one")]
    public async Task A_bad_job_file_is_a_usage_error_naming_the_field(string yaml, string expected)
    {
        string path = Path.Combine(Path.GetTempPath(), $"dtrain-job-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, yaml);
        try
        {
            var (code, _, stderr) = await DtrainProcess.RunAsync(Limit, "run", path);
            Assert.Equal(2, code);
            AssertOneLineError(stderr, expected);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Rendering_onto_a_file_refuses_and_leaves_the_file_as_it_was()
    {
        string job = Path.GetTempFileName(), existing = Path.GetTempFileName();
        await File.WriteAllTextAsync(job, "workers: 1\n");
        await File.WriteAllTextAsync(existing, "kept\n");
        try
        {
            var (code, _, stderr) = await DtrainProcess.RunAsync(Limit, "k8s", "render", job, "--job-id", "render-onto-a-file", "--out", existing, "--placeholder-secret");
            Assert.Equal(2, code);
            AssertOneLineError(stderr, $"--out {existing} is a file, not a directory");
            Assert.Equal("kept\n", await File.ReadAllTextAsync(existing));
        }
        finally
        {
            File.Delete(job);
            File.Delete(existing);
        }
    }

    [Fact]
    public async Task A_coordinator_no_worker_joins_fails_at_its_join_timeout()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var dtrain = DtrainProcess.Start(
            ["coordinator", "--workers", "1", "--join-timeout", "2", "--port", TestPorts.FreePair().ToString()],
            new Dictionary<string, string> { ["DTRAIN_JOB_SECRET"] = "secret" });
        Assert.Equal(1, await dtrain.WaitAsync(TimeSpan.FromSeconds(30)));
        AssertOneLineError(dtrain.Stderr, "epoch 1 has 0 of its minimum 1 workers after 2 s");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"failed after {clock.Elapsed}, before its join timeout");
    }

    [Fact]
    public async Task A_port_in_use_is_named_and_no_worker_is_started()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        int port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        using var dtrain = DtrainProcess.Start(["run", "--port", port.ToString()]);
        var children = new HashSet<int>();
        var exited = dtrain.WaitAsync(Limit);
        while (!exited.IsCompleted)
        {
            children.UnionWith(dtrain.Children());
            await Task.Delay(20);
        }

        Assert.Equal(1, await exited);
        AssertOneLineError(dtrain.Stderr, $"http://127.0.0.1:{port}: address already in use");
        Assert.Empty(children);
    }

    [Fact]
    public async Task A_worker_that_cannot_reach_the_coordinator_gives_up_with_one_line()
    {
        using var dtrain = DtrainProcess.Start(
            ["worker", "--coordinator", "http://127.0.0.1:1", "--connect-timeout", "1"],
            new Dictionary<string, string> { ["DTRAIN_JOB_TOKEN"] = "token" });
        Assert.Equal(1, await dtrain.WaitAsync(Limit));
        AssertOneLineError(dtrain.Stderr, "cannot reach the coordinator at http://127.0.0.1:1 (no answer for 1 s)");
    }
}
