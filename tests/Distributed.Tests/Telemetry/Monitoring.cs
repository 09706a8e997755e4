using System.Text.Json;
using System.Text.RegularExpressions;

namespace Dtrain.Tests.Telemetry;

/// <summary>The repository's monitoring files: Prometheus recording rules (with their unit tests) and the Grafana dashboard.</summary>
internal static class Monitoring
{
    public const string Rules = "deploy/prometheus/dtrain.rules.yml";
    public const string RuleTests = "deploy/prometheus/dtrain.rules.test.yml";
    public const string Dashboard = "deploy/grafana/dtrain-dashboard.json";

    /// <summary>The names of the series the rules record.</summary>
    public static IReadOnlyList<string> RecordedSeries() =>
        Regex.Matches(RepositoryFiles.Read(Rules), @"^\s*- record: (\S+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();

    /// <summary>The dashboard's PromQL: every panel's queries, and its variables' (Grafana's label_values(...)).</summary>
    public static IReadOnlyList<string> DashboardQueries()
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
}
