using System.Text.RegularExpressions;
using Dtrain.Tests.Launcher;

namespace Dtrain.Tests.Telemetry;

/// <summary>`--linger`: after the job ended, the coordinator's /metrics stays up long enough to be scraped in its final state.</summary>
public class FinalStateTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_lingering_coordinator_serves_the_completed_state_until_ctrl_c()
    {
        int port = TestPorts.FreePair();
        using var run = DtrainProcess.Start(["run", "--workers", "2", "--steps", "20", "--device", "cpu", "--port", port.ToString(), "--linger", "600"]);
        await run.WaitForOutputAsync("shows the job's final state for 600 s", Limit);

        using var http = new HttpClient();
        string metrics = await http.GetStringAsync($"http://127.0.0.1:{port + 1}/metrics");
        var states = Regex.Matches(metrics, @"^dtrain_job_state\{state=""(\w+)""\} (\S+)$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal("1", states["completed"]);
        Assert.Equal(["0"], states.Where(state => state.Key != "completed").Select(state => state.Value).Distinct());

        // The linger is for scrapers, not a hang: Ctrl-C ends it, and the run still succeeded.
        run.Signal("INT");
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("done: 20 steps", run.Stdout);
    }
}
