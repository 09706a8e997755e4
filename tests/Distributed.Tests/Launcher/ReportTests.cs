using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Dtrain.Tests.Graph;
using SkiaSharp;

namespace Dtrain.Tests.Launcher;

/// <summary>`dtrain report RUN_DIR`: a PNG of loss and throughput over the steps, and a summary that agrees with the run's record.</summary>
public class ReportTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static Dictionary<string, string> Fields(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Skip(1)
            .Select(line => line.Split(": ", 2))
            .ToDictionary(pair => pair[0], pair => pair[1]);

    private static double Number(string text) => double.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>
    /// A PNG by its signature and header, of a plot's size, with the data drawn: many pixels of the series' blue, and
    /// the red restart marks if and only if <paramref name="restartsMarked"/>.
    /// </summary>
    private static void AssertPlot(string path, bool restartsMarked = false)
    {
        byte[] png = File.ReadAllBytes(path);
        Assert.Equal(PngSignature, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        int width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
        Assert.InRange(width, 600, 4000);
        Assert.InRange(height, 400, 4000);
        Assert.True(png.Length > 20_000, $"{path} is {png.Length} bytes: too small for a plot with text and lines");

        using var bitmap = SKBitmap.Decode(png);
        int blue = 0, red = 0;
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++)
            {
                var pixel = bitmap.GetPixel(x, y);
                if (pixel.Blue > pixel.Red + 60) blue++;
                if (pixel.Red > pixel.Blue + 100 && pixel.Red > pixel.Green + 100) red++;
            }
        }
        Assert.True(blue > 500, $"only {blue} pixels of a plotted line");
        if (restartsMarked) Assert.True(red > 200, $"only {red} red pixels: the restarts are not marked");
        else Assert.Equal(0, red);
    }

    [Fact]
    public async Task The_report_of_a_real_run_plots_it_and_its_summary_matches_the_record()
    {
        using var directory = new TempDirectory();
        string runDir = directory.File("run");
        // Long enough (seconds, at a few hundred steps a second) for the launcher's 200 ms polls to see several steps.
        const int steps = 1500, batch = 64;
        var run = await DtrainProcess.RunAsync(Limit, "run", "--steps", $"{steps}", "--batch-size", $"{batch}", "--device", "cpu",
            "--port", TestPorts.FreePair().ToString(), "--quiet", "--run-dir", runDir);
        Assert.True(run.ExitCode == 0, run.Stderr);

        var report = await DtrainProcess.RunAsync(Limit, "report", runDir);
        Assert.True(report.ExitCode == 0, report.Stderr);

        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(runDir, "summary.json")));
        var rates = (await File.ReadAllLinesAsync(Path.Combine(runDir, "progress.csv"))).Skip(1)
            .Select(row => double.Parse(row.Split(',')[4], CultureInfo.InvariantCulture))
            .Where(rate => rate > 0)
            .ToList();
        var fields = Fields(report.Stdout);
        Assert.Equal($"run {runDir}: completed", report.Stdout.Split('\n')[0].Trim());
        Assert.Equal($"{steps} of {steps}", fields["steps"]);
        Assert.Equal(summary.RootElement.GetProperty("final_loss").GetDouble(), Number(fields["final loss"]), 0.00005);
        Assert.True(rates.Count >= 2, $"the record holds {rates.Count} measured rates");
        Assert.Equal(Median(rates), Number(fields["median throughput"]), 0.5);
        // The ranks' own measure spans all but their first step, within the run's wall time: it cannot be lower than that.
        double measured = summary.RootElement.GetProperty("samples_per_second").GetDouble();
        double wallTime = summary.RootElement.GetProperty("wall_time_seconds").GetDouble();
        int workers = summary.RootElement.GetProperty("workers").GetInt32();
        Assert.True(measured >= (steps - 1) * batch * workers / wallTime, $"{measured} samples/s over {wallTime} s");
        Assert.Equal(measured, Number(fields["last epoch's throughput"]), 0.5);
        Assert.Equal(summary.RootElement.GetProperty("wall_time_seconds").GetDouble(), Number(fields["wall time"]), 0.05);
        Assert.Equal("0", fields["restarts"]);
        Assert.Equal(Path.Combine(runDir, "report.png"), fields["plot"]);
        AssertPlot(fields["plot"]);
    }

    /// <summary>
    /// A run whose launcher was killed has a record but no summary: the report works from the record alone, and marks
    /// where a new epoch began.
    /// </summary>
    [Fact]
    public async Task A_record_without_a_summary_is_reported_from_its_rows_with_its_restarts_marked()
    {
        using var directory = new TempDirectory();
        await File.WriteAllTextAsync(directory.File("progress.csv"),
            "time_unix_s,epoch,step,loss,samples_per_s\n" +
            "1000.000,1,1,2.5,0.0\n" +
            "1001.500,1,10,1.25,400.0\n" +
            "1002.000,1,20,0.75,100.0\n" +
            "1003.000,2,16,0.8,0.0\n" +
            "1004.250,2,30,0.5,250.0\n");
        string plot = directory.File("elsewhere.png");

        var report = await DtrainProcess.RunAsync(Limit, "report", directory.Path, "--out", plot);

        Assert.True(report.ExitCode == 0, report.Stderr);
        var fields = Fields(report.Stdout);
        Assert.Contains("did not finish", report.Stdout.Split('\n')[0]);
        Assert.Equal("30", fields["steps"]);
        Assert.Equal("0.5000", fields["final loss"]);
        Assert.Equal("250 samples/s", fields["median throughput"]);
        Assert.Equal("4.3 s", fields["wall time"]);
        Assert.Equal("unknown", fields["restarts"]);
        Assert.Equal("16", fields["restarted at steps"]);
        AssertPlot(plot, restartsMarked: true);
    }

    [Fact]
    public async Task A_directory_without_a_record_is_a_usage_error()
    {
        using var directory = new TempDirectory();
        var report = await DtrainProcess.RunAsync(Limit, "report", directory.Path);
        Assert.Equal(2, report.ExitCode);
        BadInputTests.AssertOneLineError(report.Stderr, $"{directory.Path} holds no run record (progress.csv)");
    }

    [Theory]
    [InlineData("", "records no step yet")]
    [InlineData("step,loss\n", "does not start with the header time_unix_s,epoch,step,loss,samples_per_s")]
    [InlineData("time_unix_s,epoch,step,loss,samples_per_s\n1000.0,1,1,2.5,0\n1001.0,1,ten,2.0,5\n", "progress.csv line 3: expected time_unix_s,epoch,step,loss,samples_per_s, got '1001.0,1,ten,2.0,5'")]
    public async Task A_bad_record_is_a_usage_error_naming_it(string csv, string expected)
    {
        using var directory = new TempDirectory();
        await File.WriteAllTextAsync(directory.File("progress.csv"), csv == "" ? "time_unix_s,epoch,step,loss,samples_per_s\n" : csv);
        var report = await DtrainProcess.RunAsync(Limit, "report", directory.Path);
        Assert.Equal(2, report.ExitCode);
        BadInputTests.AssertOneLineError(report.Stderr, expected);
    }
}
