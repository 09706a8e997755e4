namespace Dtrain.Tests.Telemetry;

/// <summary>One row of docs/metrics.md's table of metrics.</summary>
internal sealed record DocumentedMetric(string Name, string Type, IReadOnlyList<string> Labels, IReadOnlyList<string> ExposedBy);

/// <summary>docs/metrics.md read as data: its table of metrics, by name.</summary>
internal static class MetricsDoc
{
    private const string Header = "| metric | type | labels | unit | exposed by | meaning |";

    public static IReadOnlyDictionary<string, DocumentedMetric> Read()
    {
        var lines = RepositoryFiles.Read("docs/metrics.md").Split('\n');
        int header = Array.IndexOf(lines, Header);
        Assert.True(header >= 0, $"docs/metrics.md has no table headed {Header}");
        return lines.Skip(header + 2)
            .TakeWhile(line => line.StartsWith('|'))
            .Select(Parse)
            .ToDictionary(metric => metric.Name);
    }

    private static DocumentedMetric Parse(string row)
    {
        string[] cells = row.Trim().Trim('|').Split('|').Select(cell => cell.Trim()).ToArray();
        Assert.True(cells.Length == 6, $"a row of docs/metrics.md's table has {cells.Length} cells, not 6: {row}");
        return new DocumentedMetric(Unquote(cells[0]), cells[1], List(cells[2]), List(cells[4]));
    }

    /// <summary>"`a`, `b`" or "a, b" as [a, b]; "–" as none.</summary>
    private static string[] List(string cell) =>
        cell == "–" ? [] : cell.Split(',').Select(item => Unquote(item.Trim())).ToArray();

    private static string Unquote(string cell) => cell.Trim('`');

    /// <summary>
    /// The metric a series belongs to: a histogram's _bucket, _sum and _count series belong to the histogram.
    /// </summary>
    public static string MetricOf(string series, IReadOnlyDictionary<string, DocumentedMetric> documented)
    {
        foreach (string suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (series.EndsWith(suffix) && documented.TryGetValue(series[..^suffix.Length], out var histogram) && histogram.Type == "histogram")
            {
                return histogram.Name;
            }
        }
        return series;
    }
}
