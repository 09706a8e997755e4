using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Telemetry;

/// <summary>One series of a PromQL query's result: its labels (__name__ among them, when kept) and value.</summary>
internal sealed record PromSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A real Prometheus server (Debian's) on a free loopback port, with its own configuration and storage in a
/// temporary directory, queried through its HTTP API.
/// </summary>
internal sealed class PrometheusServer : IDisposable
{
    private readonly TempDirectory directory = new();
    private readonly HttpClient http = new();
    private readonly Process process;
    private readonly Queue<string> log = new();

    private PrometheusServer(string configuration)
    {
        Address = $"http://127.0.0.1:{TestPorts.FreeRun(1)}";
        File.WriteAllText(directory.File("prometheus.yml"), configuration);
        process = Process.Start(new ProcessStartInfo("prometheus",
            [$"--config.file={directory.File("prometheus.yml")}", $"--storage.tsdb.path={directory.File("data")}",
             $"--web.listen-address={new Uri(Address).Authority}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Address { get; }

    /// <summary>The server's last lines of log, for failure messages.</summary>
    public string Log { get { lock (log) return string.Join('\n', log); } }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (log)
        {
            log.Enqueue(line);
            if (log.Count > 30) log.Dequeue();
        }
    }

    /// <summary>Starts Prometheus with <paramref name="configuration"/> (prometheus.yml) and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(string configuration)
    {
        var server = new PrometheusServer(configuration);
        try
        {
            await server.WaitUntilAsync(() => "ready", TimeSpan.FromSeconds(30), async () =>
                (await server.http.GetAsync($"{server.Address}/-/ready")).IsSuccessStatusCode);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Evaluates an instant PromQL query; fails the test when Prometheus refuses it.</summary>
    public async Task<IReadOnlyList<PromSample>> QueryAsync(string query)
    {
        var response = await http.GetAsync($"{Address}/api/v1/query?query={Uri.EscapeDataString(query)}");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.True(root.GetProperty("status").GetString() == "success",
            $"Prometheus refused '{query}': {(root.TryGetProperty("error", out var error) ? error.GetString() : response.StatusCode)}");
        return root.GetProperty("data").GetProperty("result").EnumerateArray().Select(series => new PromSample(
            series.GetProperty("metric").EnumerateObject().ToDictionary(label => label.Name, label => label.Value.GetString()!),
            double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture))).ToArray();
    }

    /// <summary>Queries until <paramref name="satisfied"/> holds for the result, and returns that result.</summary>
    public async Task<IReadOnlyList<PromSample>> QueryUntilAsync(string query, Func<IReadOnlyList<PromSample>, bool> satisfied, TimeSpan limit)
    {
        IReadOnlyList<PromSample> result = [];
        await WaitUntilAsync(() => $"'{query}' to give the expected result (last: {Describe(result)})", limit,
            async () => satisfied(result = await QueryAsync(query)));
        return result;
    }

    private static string Describe(IReadOnlyList<PromSample> result) =>
        result.Count == 0 ? "no series" : string.Join("; ", result.Select(s => $"{{{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}"));

    private async Task WaitUntilAsync(Func<string> what, TimeSpan limit, Func<Task<bool>> condition)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (HttpRequestException) when (!process.HasExited)
            {
                // Not listening yet.
            }
            if (waited.Elapsed > limit || process.HasExited)
            {
                throw new TimeoutException($"waited {waited.Elapsed.TotalSeconds:0} s for Prometheus ({what()}); its log:\n{Log}");
            }
            await Task.Delay(250);
        }
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill();
        process.WaitForExit();
        process.Dispose();
        http.Dispose();
        directory.Dispose();
    }
}
