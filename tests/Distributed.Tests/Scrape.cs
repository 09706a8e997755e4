using System.Globalization;

namespace Dtrain.Tests;

/// <summary>Reads series from a process's /metrics page, as Prometheus would.</summary>
internal static class Scrape
{
    public static string Rejected(string endpoint, string reason) =>
        $"dtrain_rejected_connections_total{{endpoint=\"{endpoint}\",reason=\"{reason}\"}}";

    /// <summary>The series' value; 0 while it is absent (a labelled counter appears once first incremented).</summary>
    public static async Task<double> ValueAsync(string metricsAddress, string series)
    {
        using var http = new HttpClient();
        string page = await http.GetStringAsync(metricsAddress);
        string? line = page.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
