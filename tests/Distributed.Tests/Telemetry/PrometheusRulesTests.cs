using System.Text.RegularExpressions;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Telemetry;

/// <summary>deploy/prometheus's recording rules and deploy/grafana's dashboard, checked by promtool and against docs/metrics.md.</summary>
public class PrometheusRulesTests
{
    /// <summary>A metric's name where it stands alone in PromQL, not inside a recorded series' name.</summary>
    private static readonly Regex MetricName = new(@"(?<![\w:])dtrain_\w+");

    /// <summary>A recorded series' name: level:metric:operations.</summary>
    private static readonly Regex RecordedName = new(@"\b\w+:dtrain_[\w:]+");

    [Fact]
    public async Task Promtool_accepts_every_recording_rule()
    {
        var (code, output) = await Promtool.RunAsync("check", "rules", RepositoryFiles.PathOf(Monitoring.Rules));

        Assert.True(code == 0, output);
        Assert.Contains($"SUCCESS: {Monitoring.RecordedSeries().Count} rules found", output);
    }

    [Fact]
    public async Task The_rules_compute_what_their_unit_tests_work_out_by_hand()
    {
        var (code, output) = await Promtool.RunAsync("test", "rules", RepositoryFiles.PathOf(Monitoring.RuleTests));

        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output);
    }

    [Fact]
    public async Task Promtool_refuses_a_rule_whose_expression_does_not_parse()
    {
        using var directory = new TempDirectory();
        string rules = RepositoryFiles.Read(Monitoring.Rules);
        string broken = rules.Replace("sum by (job) (rate(dtrain_train_samples_total[1m]))", "sum by (job) (rate(dtrain_train_samples_total[1m])");
        Assert.NotEqual(rules, broken);
        File.WriteAllText(directory.File("broken.rules.yml"), broken);

        var (code, output) = await Promtool.RunAsync("check", "rules", directory.File("broken.rules.yml"));

        Assert.NotEqual(0, code);
        Assert.Contains("job:dtrain_train_samples:rate1m", output);
    }

    [Fact]
    public void Rules_and_dashboard_use_only_documented_metrics_and_recorded_series()
    {
        var documented = MetricsDoc.Read();
        var recorded = Monitoring.RecordedSeries();
        string[] queries = [RepositoryFiles.Read(Monitoring.Rules), .. Monitoring.DashboardQueries()];

        var metrics = queries.SelectMany(query => MetricName.Matches(query)).Select(m => m.Value).Distinct().ToArray();
        Assert.Contains("dtrain_train_samples_total", metrics);
        var undocumented = metrics.Where(series => !documented.ContainsKey(MetricsDoc.MetricOf(series, documented))).ToArray();
        Assert.True(undocumented.Length == 0, $"the rules or the dashboard use metrics not in docs/metrics.md: {string.Join(", ", undocumented)}");
        var used = Monitoring.DashboardQueries().SelectMany(query => RecordedName.Matches(query)).Select(m => m.Value).Distinct().ToArray();
        Assert.Contains("job:dtrain_train_samples:rate1m", used);
        var unrecorded = used.Except(recorded).ToArray();
        Assert.True(unrecorded.Length == 0, $"the dashboard draws series {Monitoring.Rules} does not record: {string.Join(", ", unrecorded)}");
    }
}
