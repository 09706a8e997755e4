using System.Globalization;
using System.Text.Json;
using Dtrain.Launcher.Monitoring;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Launcher;

/// <summary>What `dtrain run` prints for scripts (--json, --quiet) and what it keeps in its run directory.</summary>
public class RunOutputTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    private static string FreePort() => TestPorts.FreePair().ToString();

    private static List<JsonElement> JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .ToList();

    [Fact]
    public async Task Json_prints_only_json_lines_ending_in_a_summary_and_the_run_directory_keeps_logs_record_and_summary()
    {
        using var directory = new TempDirectory();
        string runDir = directory.File("run");
        var run = await DtrainProcess.RunAsync(Limit, "run", "--steps", "60", "--device", "cpu", "--port", FreePort(), "--json", "--run-dir", runDir);
        Assert.True(run.ExitCode == 0, run.Stderr);

        // Every line parses (JsonDocument.Parse throws otherwise) and names its event.
        var events = JsonLines(run.Stdout);
        var kinds = events.Select(e => e.GetProperty("event").GetString()).ToList();
        Assert.All(kinds, kind => Assert.Contains(kind, new[] { "message", "progress", "summary" }));
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "message" && e.GetProperty("text").GetString()!.StartsWith("rank 0/2 of epoch 1 on cpu"));

        var progress = events.Where(e => e.GetProperty("event").GetString() == "progress").ToList();
        Assert.NotEmpty(progress);
        var steps = progress.Select(e => e.GetProperty("step").GetInt32()).ToList();
        Assert.Equal(steps.Order(), steps);
        Assert.All(progress, e => Assert.Equal(2, e.GetProperty("ranks").GetArrayLength()));

        var summary = events[^1];
        Assert.Equal("summary", summary.GetProperty("event").GetString());
        Assert.Single(kinds, "summary");
        Assert.Equal("completed", summary.GetProperty("status").GetString());
        Assert.Equal(60, summary.GetProperty("steps").GetInt32());
        Assert.Equal(2, summary.GetProperty("workers").GetInt32());
        Assert.Equal(runDir, summary.GetProperty("run_dir").GetString());
        Assert.Matches("^[0-9a-f]{64}$", summary.GetProperty("parameter_digest").GetString());
        Assert.True(summary.GetProperty("final_loss").GetDouble() < 0.5, summary.ToString());

        // The run directory: the same summary, the same steps the progress events showed, and every process's log.
        using var kept = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(runDir, "summary.json")));
        foreach (var field in kept.RootElement.EnumerateObject())
        {
            Assert.Equal(field.Value.ToString(), summary.GetProperty(field.Name).ToString());
        }
        var record = await File.ReadAllLinesAsync(Path.Combine(runDir, "progress.csv"));
        Assert.Equal("time_unix_s,epoch,step,loss,samples_per_s", record[0]);
        Assert.Equal(steps, record.Skip(1).Select(row => int.Parse(row.Split(',')[2], CultureInfo.InvariantCulture)));
        string workerLogs = string.Join("\n", Directory.GetFiles(runDir, "worker-*.log").Select(File.ReadAllText));
        Assert.Equal(2, Directory.GetFiles(runDir, "worker-*.log").Length);
        Assert.Contains("rank 0/2 of epoch 1 on cpu", workerLogs);
        Assert.Contains("rank 1/2 of epoch 1 on cpu", workerLogs);
        Assert.Matches(@"(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z done: 60 steps on 2 workers", await File.ReadAllTextAsync(Path.Combine(runDir, "launcher.log")));
    }

    [Fact]
    public async Task On_a_terminal_a_live_bar_shows_the_run_and_with_ranks_each_rank()
    {
        using var directory = new TempDirectory();
        // Seconds long, at a few hundred steps a second: the ETA needs two of the launcher's 200 ms polls to see steps.
        using var dtrain = DtrainProcess.StartOnTerminal(["run", "--steps", "1500", "--device", "cpu", "--port", FreePort(), "--ranks", "--run-dir", directory.Path]);
        Assert.True(await dtrain.WaitAsync(Limit) == 0, dtrain.Stdout);

        Assert.Matches(@"step \d+/1500  loss [0-9.]+  \d+ samples/s  ETA \d+:\d\d", dtrain.Stdout);
        Assert.Matches(@"rank 0: step \d+, loss [0-9.]+, heard [0-9.]+ s ago", dtrain.Stdout);
        Assert.Matches(@"rank 1: step \d+, loss [0-9.]+, heard [0-9.]+ s ago", dtrain.Stdout);
        // The bar is redrawn in place with ANSI escapes, not printed line by line as in a log.
        Assert.Contains("\u001b[", dtrain.Stdout);
        Assert.Contains("done: 1500 steps on 2 workers", dtrain.Stdout);
    }

    [Fact]
    public async Task Quiet_prints_only_the_result_line_in_the_same_form_under_any_locale()
    {
        using var directory = new TempDirectory();
        // A German locale writes 0,0528 and "97,53 %", en_US "97.53%": the line must not depend on the host's.
        var german = new Dictionary<string, string> { ["LANG"] = "de_DE.UTF-8", ["LC_ALL"] = "de_DE.UTF-8" };
        using var dtrain = DtrainProcess.Start(["run", "--steps", "20", "--device", "cpu", "--port", FreePort(), "--quiet", "--run-dir", directory.Path], german);
        Assert.True(await dtrain.WaitAsync(Limit) == 0, dtrain.Stderr);
        string line = Assert.Single(dtrain.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Matches(@"^done: 20 steps on 2 workers, final loss \d+\.\d{4}, held-out accuracy \d+\.\d\d %, wall time \d+\.\d s, ", line);
        Assert.Equal("", dtrain.Stderr.Trim());
    }

    [Fact]
    public void Json_writes_a_number_that_is_not_finite_as_null()
    {
        var summary = new RunSummary { Status = RunSummary.Failed, Steps = 3, TotalSteps = 10, Workers = 2, FinalLoss = double.NaN, TestAccuracy = double.PositiveInfinity, WallTimeSeconds = 1.5, Restarts = 0, RunDir = "runs/x" };
        string json = JsonSerializer.Serialize(summary, RunJson.Options);

        using var strict = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Null, strict.RootElement.GetProperty("final_loss").ValueKind);
        Assert.Equal(JsonValueKind.Null, strict.RootElement.GetProperty("test_accuracy").ValueKind);
        Assert.Equal(1.5, strict.RootElement.GetProperty("wall_time_seconds").GetDouble());
        // Summaries that earlier versions wrote with "NaN" still read.
        var earlier = JsonSerializer.Deserialize<RunSummary>(json.Replace("\"final_loss\":null", "\"final_loss\":\"NaN\""), RunJson.Options)!;
        Assert.True(double.IsNaN(earlier.FinalLoss!.Value));
    }

    [Fact]
    public async Task A_run_whose_loss_diverges_fails_naming_it()
    {
        using var directory = new TempDirectory();
        var run = await DtrainProcess.RunAsync(Limit, "run", "--lr", "1e308", "--steps", "5", "--device", "cpu", "--port", FreePort(), "--quiet", "--run-dir", directory.Path);

        Assert.Equal(1, run.ExitCode);
        BadInputTests.AssertOneLineError(run.Stderr, "the training diverged at step ");
        Assert.Contains("(try a lower --lr)", run.Stderr);
    }

    [Fact]
    public async Task A_failed_job_exits_with_1_one_error_line_and_a_failed_summary()
    {
        using var directory = new TempDirectory();
        using var dtrain = DtrainProcess.Start(["run", "--steps", "1000000", "--device", "cpu", "--port", FreePort(), "--json", "--run-dir", directory.Path]);
        await dtrain.WaitForOutputAsync("rank 1/2", Limit);
        var workers = dtrain.Children();
        System.Diagnostics.Process.GetProcessById(workers[0]).Kill();

        Assert.Equal(1, await dtrain.WaitAsync(Limit));
        BadInputTests.AssertOneLineError(dtrain.Stderr, "failed (exit code 137)");
        var summary = JsonLines(dtrain.Stdout)[^1];
        Assert.Equal("failed", summary.GetProperty("status").GetString());
        Assert.Equal(dtrain.Stderr.Trim()["dtrain: error: ".Length..], summary.GetProperty("error").GetString());
        Assert.DoesNotContain(workers, DtrainProcess.IsRunning);
    }
}
