using System.Reflection;
using Dtrain.Telemetry;
using Prometheus;

namespace Dtrain.Tests.Telemetry;

/// <summary>docs/metrics.md lists exactly the metrics DtrainMetrics defines, with their types and labels.</summary>
public class MetricsDocumentationTests
{
    private static IReadOnlyDictionary<string, Collector> Defined() =>
        typeof(DtrainMetrics).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(field => field.GetValue(null))
            .OfType<Collector>()
            .ToDictionary(metric => metric.Name);

    private static string TypeOf(Collector metric) => metric switch
    {
        Counter => "counter",
        Gauge => "gauge",
        Histogram => "histogram",
        Summary => "summary",
        _ => metric.GetType().Name,
    };

    [Fact]
    public void Every_defined_metric_is_documented_and_every_documented_one_is_defined()
    {
        var (defined, documented) = (Defined(), MetricsDoc.Read());

        Assert.True(defined.Count > 10, $"found only {defined.Count} metrics in DtrainMetrics");
        var undocumented = defined.Keys.Except(documented.Keys).ToArray();
        Assert.True(undocumented.Length == 0, $"defined but not in docs/metrics.md: {string.Join(", ", undocumented)}");
        var gone = documented.Keys.Except(defined.Keys).ToArray();
        Assert.True(gone.Length == 0, $"in docs/metrics.md but no longer defined: {string.Join(", ", gone)}");
    }

    [Fact]
    public void The_docs_give_each_metric_its_type_and_labels()
    {
        var documented = MetricsDoc.Read();
        foreach (var (name, metric) in Defined())
        {
            if (!documented.TryGetValue(name, out var doc)) continue;   // the test above names it
            Assert.True(TypeOf(metric) == doc.Type, $"{name} is a {TypeOf(metric)}; docs/metrics.md says {doc.Type}");
            Assert.True(metric.LabelNames.SequenceEqual(doc.Labels),
                $"{name} has labels [{string.Join(", ", metric.LabelNames)}]; docs/metrics.md says [{string.Join(", ", doc.Labels)}]");
        }
    }

    [Fact]
    public void Names_follow_the_conventions_of_Prometheus()
    {
        foreach (var (name, metric) in Defined())
        {
            Assert.StartsWith("dtrain_", name);
            Assert.True((metric is Counter) == name.EndsWith("_total"), $"{name}: counters, and only counters, end in _total");
            Assert.DoesNotContain("step", metric.LabelNames);
            foreach (string unit in (string[])["_milliseconds", "_microseconds", "_minutes", "_kilobytes", "_megabytes", "_mib", "_percent"])
            {
                Assert.False(name.Contains(unit), $"{name}: base units (seconds, bytes, ratios), not {unit}");
            }
        }
    }
}
