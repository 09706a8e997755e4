using System.Text.RegularExpressions;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Launcher;

/// <summary>`dtrain status` against a running `dtrain run` (Distributed Shampoo) that was given the operator's job secret.</summary>
public class StatusTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Status_shows_the_running_job_its_workers_and_its_last_checkpoint_and_refuses_a_wrong_token()
    {
        using var directory = new TempDirectory();
        string port = TestPorts.FreePair().ToString(), address = $"http://127.0.0.1:{port}";
        using var job = DtrainProcess.Start(["run", "--job-id", "nightly", "--steps", "1000000", "--device", "cpu", "--port", port, "--optimizer", "shampoo",
            "--checkpoint-every", "20", "--checkpoint-dir", directory.Path], new Dictionary<string, string> { ["DTRAIN_JOB_SECRET"] = "operator-secret" });
        var token = new Dictionary<string, string> { ["DTRAIN_JOB_TOKEN"] = await DtrainProcess.TokenAsync("operator-secret", "nightly") };

        string output = await StatusOnceAsync(address, token, @"last checkpoint: \S+ \(step \d+\)");

        Assert.Matches(@"job nightly: running, epoch 1, 2/2 workers joined, 0 restarts, 1000000 steps", output);
        // The workers placed Shampoo's blocks through the coordinator's shard map; both ranks own some.
        Assert.Matches(@"shard map: shampoo-blocks, \d+ units on 2 ranks, bytes per rank [1-9][0-9,]* / [1-9][0-9,]*", output);
        Assert.Matches(@"(?m)^\s+0\s+\d+\s+[0-9.]+\s+[0-9.]+ s$", output);
        Assert.Matches(@"(?m)^\s+1\s+\d+\s+[0-9.]+\s+[0-9.]+ s$", output);
        // The same secret's token for another job admits nobody to this one.
        var otherJob = new Dictionary<string, string> { ["DTRAIN_JOB_TOKEN"] = await DtrainProcess.TokenAsync("operator-secret", "weekly") };
        using var stranger = DtrainProcess.Start(["status", "--coordinator", address], otherJob);
        Assert.Equal(1, await stranger.WaitAsync(Limit));
        BadInputTests.AssertOneLineError(stranger.Stderr, $"the coordinator at {address} refused the job token");
    }

    [Fact]
    public async Task Status_shows_which_rank_holds_each_graph_partition()
    {
        string port = TestPorts.FreePair().ToString(), address = $"http://127.0.0.1:{port}";
        using var job = DtrainProcess.Start(["run", "--job-id", "graphs", "--model", "graphsage", "--steps", "1000000", "--device", "cpu", "--port", port],
            new Dictionary<string, string> { ["DTRAIN_JOB_SECRET"] = "operator-secret" });
        var token = new Dictionary<string, string> { ["DTRAIN_JOB_TOKEN"] = await DtrainProcess.TokenAsync("operator-secret", "graphs") };

        string output = await StatusOnceAsync(address, token, "shard map: graph-partitions");

        // One METIS part per worker, each on its own rank, each with edges.
        Assert.Matches(@"shard map: graph-partitions, 2 units on 2 ranks, edges per rank [1-9][0-9,]* / [1-9][0-9,]*", output);
    }

    /// <summary>`dtrain status`'s output once it matches <paramref name="pattern"/>.</summary>
    private static async Task<string> StatusOnceAsync(string address, Dictionary<string, string> token, string pattern)
    {
        string output = "";
        var deadline = DateTime.UtcNow + Limit;
        while (!Regex.IsMatch(output, pattern))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no status matching '{pattern}' within {Limit}: {output}");
            // Until the coordinator listens, status fails with "cannot reach"; that is retried.
            using var status = DtrainProcess.Start(["status", "--coordinator", address], token);
            output = await status.WaitAsync(Limit) == 0 ? status.Stdout : "";
            await Task.Delay(200);
        }
        return output;
    }
}
