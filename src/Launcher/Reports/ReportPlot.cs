using ScottPlot;

namespace Dtrain.Launcher.Reports;

/// <summary>A run's loss (top) and throughput (bottom) over its steps, as a PNG, with its restarts marked.</summary>
public static class ReportPlot
{
    public const int Width = 1000, Height = 700;

    public static void Save(RunReport report, string path)
    {
        var figure = new Multiplot();
        figure.AddPlots(2);
        var (loss, throughput) = (figure.GetPlot(0), figure.GetPlot(1));

        loss.Add.ScatterLine(report.Progress.Select(row => (double)row.Step).ToArray(), report.Progress.Select(row => row.Loss).ToArray());
        loss.Title($"{Path.GetFileName(Path.GetFullPath(report.Directory))}: training loss and throughput");
        loss.YLabel("loss (mean over ranks)");

        var measured = report.Progress.Where(row => row.SamplesPerSecond > 0).ToArray();
        throughput.Add.ScatterLine(measured.Select(row => (double)row.Step).ToArray(), measured.Select(row => row.SamplesPerSecond).ToArray());
        throughput.YLabel("samples/s (since the epoch began)");
        throughput.XLabel("step");

        foreach (int step in report.RestartSteps)
        {
            foreach (var plot in new[] { loss, throughput }) MarkRestart(plot, step);
        }
        figure.SharedAxes.ShareX([loss, throughput]);
        try
        {
            figure.SavePng(path, Width, Height);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot write {path}: {e.Message}");
        }
    }

    /// <summary>A dashed vertical line at the first step the job recorded after a restart.</summary>
    private static void MarkRestart(Plot plot, int step)
    {
        var line = plot.Add.VerticalLine(step);
        line.LinePattern = LinePattern.Dashed;
        line.Color = Colors.Red;
        line.LabelText = "restart";
    }
}
