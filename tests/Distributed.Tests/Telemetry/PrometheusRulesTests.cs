using System.Text.Json;
using System.Text.RegularExpressions;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Telemetry;

/// <summary>deploy/prometheus's recording rules and deploy/grafana's dashboard, checked by promtool and against docs/metrics.md.</summary>
public class PrometheusRulesTests
{
    private const string Rules = "deploy/prometheus/dtrain.rules.yml";
    private const string RuleTests = "deploy/prometheus/dtrain.rules.test.yml";
    private const string Dashboard = "deploy/grafana/dtrain-dashboard.json";

    /// <summary>A metric's name where it stands alone in PromQL, not inside a recorded series' name.</summary>
    private static readonly Regex MetricName = new(@"(?<![\w:])dtrain_\w+");

    /// <summary>A recorded series' name: level:metric:operations.</summary>
    private static readonly Regex RecordedName = new(@"\b\w+:dtrain_[\w:]+");

    private static IReadOnlyList<string> Recorded() =>
        Regex.Matches(RepositoryFiles.Read(Rules), @"^\s*- record: (\S+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();

    private static IEnumerable<string> DashboardQueries()
    {
        using var dashboard = JsonDocument.Parse(RepositoryFiles.Read(Dashboard));
        var root = dashboard.RootElement;
        var panels = root.GetProperty("panels").EnumerateArray()
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray())
            .Select(target => target.GetProperty("expr").GetString()!);
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray()
            .Where(variable => variable.GetProperty("type").GetString() == "query")
            .Select(variable => variable.GetProperty("definition").GetString()!);
        return panels.Concat(variables).ToArray();
    }

    /// <summary>Every PromQL query of the dashboard, its variables replaced by the scrape jobs given.</summary>
    public static IReadOnlyList<string> DashboardQueries(string workersJob, string coordinatorJob) =>
        DashboardQueries().Select(query => query.Replace("$job", workersJob).Replace("$coordinator", coordinatorJob)).ToArray();

    [Fact]
    public async Task Promtool_accepts_every_recording_rule()
    {
        var (code, output) = await Promtool.RunAsync("check", "rules", RepositoryFiles.PathOf(Rules));

        Assert.True(code == 0, output);
        Assert.Contains($"SUCCESS: {Recorded().Count} rules found", output);
    }

    [Fact]
    public async Task The_rules_compute_what_their_unit_tests_work_out_by_hand()
    {
        var (code, output) = await Promtool.RunAsync("test", "rules", RepositoryFiles.PathOf(RuleTests));

        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output);
    }

    [Fact]
    public async Task Promtool_refuses_a_rule_whose_expression_does_not_parse()
    {
        using var directory = new TempDirectory();
        string rules = RepositoryFiles.Read(Rules);
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
        var recorded = Recorded();
        string[] queries = [RepositoryFiles.Read(Rules), .. DashboardQueries()];

        var metrics = queries.SelectMany(query => MetricName.Matches(query)).Select(m => m.Value).Distinct().ToArray();
        Assert.Contains("dtrain_train_samples_total", metrics);
        var undocumented = metrics.Where(series => !documented.ContainsKey(MetricsDoc.MetricOf(series, documented))).ToArray();
        Assert.True(undocumented.Length == 0, $"the rules or the dashboard use metrics not in docs/metrics.md: {string.Join(", ", undocumented)}");
        var used = DashboardQueries().SelectMany(query => RecordedName.Matches(query)).Select(m => m.Value).Distinct().ToArray();
        Assert.Contains("job:dtrain_train_samples:rate1m", used);
        var unrecorded = used.Except(recorded).ToArray();
        Assert.True(unrecorded.Length == 0, $"the dashboard draws series {Rules} does not record: {string.Join(", ", unrecorded)}");
    }
}
