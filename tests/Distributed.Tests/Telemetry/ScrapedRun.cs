using System.Text.RegularExpressions;
using Dtrain.Tests.Graph;
using Dtrain.Tests.Launcher;

namespace Dtrain.Tests.Telemetry;

/// <summary>
/// A running `dtrain run` (2 workers, checkpoints every 100 steps, the workers' /metrics on ports given with
/// --worker-metrics-port), scraped every second by a real Prometheus server that also evaluates
/// deploy/prometheus/dtrain.rules.yml. The run trains until the tests end.
/// </summary>
public sealed class ScrapedRun : IAsyncLifetime
{
    public const int Workers = 2;

    private readonly TempDirectory checkpoints = new();
    private DtrainProcess? run;

    internal PrometheusServer Prometheus { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        try
        {
            int port = TestPorts.FreePair(), metricsPorts = TestPorts.FreeRun(Workers);
            run = DtrainProcess.Start(["run", "--workers", Workers.ToString(), "--steps", "1000000", "--device", "cpu", "--port", port.ToString(),
                "--checkpoint-dir", checkpoints.Path, "--checkpoint-every", "100", "--worker-metrics-port", metricsPorts.ToString()]);
            for (int rank = 0; rank < Workers; rank++) await run.WaitForOutputAsync($"rank {rank}/{Workers} of epoch 1", TimeSpan.FromMinutes(1));
            var workers = Enumerable.Range(metricsPorts, Workers).Select(metricsPort => $"127.0.0.1:{metricsPort}").ToArray();
            var announced = Regex.Matches(run.Stdout, @"metrics at http://([^/\s]+)/metrics").Select(m => m.Groups[1].Value).Order().ToArray();
            Assert.True(announced.SequenceEqual(workers), run.Stdout);

            Prometheus = await PrometheusServer.StartAsync($"""
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                  evaluation_interval: 1s
                rule_files: ['{RepositoryFiles.PathOf(Monitoring.Rules)}']
                scrape_configs:
                  - job_name: coordinator
                    static_configs: [{"{"}targets: ['127.0.0.1:{port + 1}']{"}"}]
                  - job_name: worker
                    static_configs: [{"{"}targets: ['{string.Join("', '", workers)}']{"}"}]
                """);
            await Prometheus.QueryUntilAsync("up == 1", up => up.Count == Workers + 1, TimeSpan.FromSeconds(30));
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public Task DisposeAsync()
    {
        // Prometheus first: it scrapes the run.
        Prometheus?.Dispose();
        run?.Dispose();
        checkpoints.Dispose();
        return Task.CompletedTask;
    }
}
