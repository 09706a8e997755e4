using System.Text.RegularExpressions;

namespace Dtrain.Tests.Telemetry;

/// <summary>What Prometheus sees of a real run: throughput, world size, job state, recorded series, documented names.</summary>
public class PrometheusScrapeTests(ScrapedRun run) : IClassFixture<ScrapedRun>
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private PrometheusServer Prometheus => run.Prometheus;

    [Fact]
    public async Task The_workers_throughput_is_positive_and_each_counts_the_whole_world()
    {
        var throughput = await Prometheus.QueryUntilAsync("sum(rate(dtrain_train_samples_total[10s]))", r => r.Count == 1 && r[0].Value > 0, Limit);
        Assert.True(throughput[0].Value > 0);

        var worldSize = await Prometheus.QueryAsync("dtrain_world_size{job=\"worker\"}");
        Assert.Equal(ScrapedRun.Workers, worldSize.Count);
        Assert.All(worldSize, target => Assert.Equal(ScrapedRun.Workers, target.Value));
        Assert.Equal(ScrapedRun.Workers, worldSize.Select(target => target.Labels["instance"]).Distinct().Count());
    }

    [Fact]
    public async Task The_coordinator_says_the_job_runs_in_its_first_epoch_and_has_committed_a_checkpoint()
    {
        var state = await Prometheus.QueryUntilAsync("dtrain_job_state{job=\"coordinator\"} == 1", r => r.Count == 1 && r[0].Labels["state"] == "running", Limit);
        Assert.Equal("running", state[0].Labels["state"]);

        Assert.Equal(1, (await Prometheus.QueryAsync("dtrain_job_epoch{job=\"coordinator\"}")).Single().Value);
        Assert.Equal(0, (await Prometheus.QueryAsync("dtrain_job_restarts_total{job=\"coordinator\"}")).Single().Value);
        Assert.Equal(ScrapedRun.Workers, (await Prometheus.QueryAsync("dtrain_world_size{job=\"coordinator\"}")).Single().Value);
        var checkpoint = await Prometheus.QueryUntilAsync("dtrain_checkpoint_last_committed_step{job=\"coordinator\"}", r => r.Count == 1 && r[0].Value > 0, Limit);
        Assert.Equal(0, checkpoint[0].Value % 100);
    }

    [Fact]
    public async Task The_recording_rules_turn_the_scrapes_into_throughput_and_step_time()
    {
        var throughput = await Prometheus.QueryUntilAsync("job:dtrain_train_samples:rate1m", r => r.Count == 1 && r[0].Value > 0, Limit);
        Assert.Equal("worker", throughput[0].Labels["job"]);

        var median = await Prometheus.QueryUntilAsync("job:dtrain_step_duration_seconds:p50_1m", r => r.Count == 1 && r[0].Value > 0, Limit);
        Assert.InRange(median[0].Value, 0.0001, 60);
    }

    [Fact]
    public async Task Prometheus_accepts_every_query_of_the_dashboard_and_has_series_of_every_metric_it_draws()
    {
        foreach (string query in Monitoring.DashboardQueries())
        {
            // The dashboard's variables, as Grafana would fill them in; label_values(...) is Grafana's, not PromQL.
            // A query that parses is accepted even where its metric is unknown, so each metric's series are counted too.
            string filledIn = query.Replace("$job", "worker").Replace("$coordinator", "coordinator");
            await Prometheus.QueryAsync(Regex.Replace(filledIn, @"^label_values\((\w+), \w+\)$", "$1"));
            foreach (string metric in DrawnMetric.Matches(filledIn).Select(match => match.Value).Distinct())
            {
                await Prometheus.QueryUntilAsync($"count({metric})", r => r.Count == 1 && r[0].Value > 0, Limit);
            }
        }
    }

    /// <summary>A scraped metric or a recorded series: dtrain_... or job:dtrain_...:rate1m.</summary>
    private static readonly Regex DrawnMetric = new(@"(?<![\w:])(\w+:)?dtrain_[\w:]+");

    [Fact]
    public async Task Every_series_the_processes_expose_is_documented_for_that_process()
    {
        var documented = MetricsDoc.Read();
        var exposed = await Prometheus.QueryUntilAsync("count by (__name__, job) ({__name__=~\"dtrain_.+\"})",
            r => r.Any(s => s.Labels["job"] == "coordinator") && r.Any(s => s.Labels["__name__"] == "dtrain_checkpoint_duration_seconds_count"), Limit);

        foreach (var series in exposed)
        {
            var (name, process) = (series.Labels["__name__"], series.Labels["job"]);
            Assert.True(documented.TryGetValue(MetricsDoc.MetricOf(name, documented), out var doc), $"{name}, exposed by the {process}, is not in docs/metrics.md");
            Assert.True(doc.ExposedBy.Contains(process), $"the {process} exposes {name}; docs/metrics.md says only the {string.Join(" and ", doc.ExposedBy)} does");
        }
    }
}
