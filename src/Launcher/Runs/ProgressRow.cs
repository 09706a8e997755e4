using System.Globalization;
using Dtrain.Launcher.Monitoring;

namespace Dtrain.Launcher.Runs;

/// <summary>One row of a run's progress.csv: a step the launcher saw the job reach, and when.</summary>
public sealed record ProgressRow(DateTimeOffset Time, long Epoch, int Step, double Loss, double SamplesPerSecond)
{
    public const string Header = "time_unix_s,epoch,step,loss,samples_per_s";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static ProgressRow Of(JobSnapshot snapshot, DateTimeOffset time) =>
        new(time, snapshot.Epoch, snapshot.Step, snapshot.Loss, snapshot.SamplesPerSecond);

    public string ToCsv() =>
        string.Create(Invariant, $"{Time.ToUnixTimeMilliseconds() / 1000.0:0.000},{Epoch},{Step},{Loss:R},{SamplesPerSecond:0.0}");

    /// <summary>Reads a row; a malformed one is a usage error naming its file and line.</summary>
    public static ProgressRow Parse(string line, string file, int lineNumber)
    {
        string[] fields = line.Split(',');
        if (fields.Length == 5
            && double.TryParse(fields[0], NumberStyles.Float, Invariant, out double time)
            && long.TryParse(fields[1], NumberStyles.Integer, Invariant, out long epoch)
            && int.TryParse(fields[2], NumberStyles.Integer, Invariant, out int step)
            && double.TryParse(fields[3], NumberStyles.Float, Invariant, out double loss)
            && double.TryParse(fields[4], NumberStyles.Float, Invariant, out double samplesPerSecond))
        {
            return new ProgressRow(DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(time * 1000)), epoch, step, loss, samplesPerSecond);
        }
        throw new UsageException($"{file} line {lineNumber}: expected {Header}, got '{line}'");
    }
}
