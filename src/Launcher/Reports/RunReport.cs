using System.Globalization;
using System.Text.Json;
using Dtrain.Launcher.Bench;
using Dtrain.Launcher.Monitoring;
using Dtrain.Launcher.Runs;

namespace Dtrain.Launcher.Reports;

/// <summary>
/// What `dtrain report` tells of a run directory: the progress record (progress.csv) and, when the launcher
/// lived to write it, how the run ended (summary.json). The summary has the last word on steps, final loss, wall
/// time and restarts; without it they come from the record's last row and time span, and restarts are unknown.
/// The median throughput is of the launcher's sightings; the summary's is the ranks' own measure of the last epoch.
/// </summary>
public sealed record RunReport(string Directory, IReadOnlyList<ProgressRow> Progress, RunSummary? Summary)
{
    public static RunReport Read(string directory)
    {
        string progress = Path.Combine(directory, RunDirectory.ProgressFile);
        if (!File.Exists(progress))
        {
            throw new UsageException(System.IO.Directory.Exists(directory)
                ? $"{directory} holds no run record ({RunDirectory.ProgressFile}): is it the --run-dir of a `dtrain run`?"
                : $"no run directory {directory}");
        }
        var lines = File.ReadAllLines(progress);
        if (lines.Length == 0 || lines[0] != ProgressRow.Header)
        {
            throw new UsageException($"{progress} does not start with the header {ProgressRow.Header}");
        }
        var rows = lines.Skip(1).Select((line, i) => ProgressRow.Parse(line, progress, i + 2)).ToList();
        if (rows.Count == 0) throw new UsageException($"{progress} records no step yet");
        return new RunReport(directory, rows, ReadSummary(Path.Combine(directory, RunDirectory.SummaryFile)));
    }

    private static RunSummary? ReadSummary(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<RunSummary>(File.ReadAllText(path), RunJson.Options);
        }
        catch (JsonException e)
        {
            throw new UsageException($"{path} is not a run summary: {e.Message}");
        }
    }

    public int Steps => Summary?.Steps ?? Progress[^1].Step;

    public double FinalLoss => Summary?.FinalLoss ?? Progress[^1].Loss;

    public TimeSpan WallTime => Summary is { } summary
        ? TimeSpan.FromSeconds(summary.WallTimeSeconds)
        : Progress[^1].Time - Progress[0].Time;

    /// <summary>
    /// The median of the recorded rates; the first row of each epoch has none yet (0), and an epoch's rate is
    /// measured from its own start.
    /// </summary>
    public double? MedianSamplesPerSecond =>
        Progress.Where(row => row.SamplesPerSecond > 0).Select(row => row.SamplesPerSecond).ToArray() is { Length: > 0 } rates
            ? Median.Of(rates)
            : null;

    /// <summary>The first recorded step of each epoch after the first: where the job restarted.</summary>
    public IReadOnlyList<int> RestartSteps =>
        Progress.Zip(Progress.Skip(1)).Where(pair => pair.Second.Epoch != pair.First.Epoch).Select(pair => pair.Second.Step).ToArray();

    /// <summary>The summary a person reads, one "name: value" per line.</summary>
    public IEnumerable<string> Describe()
    {
        var culture = CultureInfo.InvariantCulture;
        yield return $"run {Directory}: {Summary?.Status ?? "did not finish (no summary: the launcher was killed, or still runs)"}";
        yield return Summary is { } summary ? $"steps: {Steps} of {summary.TotalSteps}" : $"steps: {Steps}";
        yield return string.Create(culture, $"final loss: {FinalLoss:0.0000}");
        yield return MedianSamplesPerSecond is { } rate ? string.Create(culture, $"median throughput: {rate:0} samples/s") : "median throughput: none recorded";
        if (Summary?.SamplesPerSecond is { } lastEpoch) yield return string.Create(culture, $"last epoch's throughput: {lastEpoch:0} samples/s");
        yield return string.Create(culture, $"wall time: {WallTime.TotalSeconds:0.0} s");
        yield return $"restarts: {Summary?.Restarts.ToString(culture) ?? "unknown"}";
        if (RestartSteps.Count > 0) yield return $"restarted at steps: {string.Join(", ", RestartSteps.Select(step => step.ToString(culture)))}";
    }
}
