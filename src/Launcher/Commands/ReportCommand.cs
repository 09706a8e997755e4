using System.CommandLine;
using Dtrain.Launcher.Options;
using Dtrain.Launcher.Reports;
using Dtrain.Launcher.Runs;

namespace Dtrain.Launcher.Commands;

/// <summary>`dtrain report RUN_DIR`: a finished (or stopped) run's loss and throughput plot, and its summary.</summary>
public static class ReportCommand
{
    public const string PlotFile = "report.png";

    public static Command Create()
    {
        var directory = new Argument<string>("run-dir") { Description = "the run directory of a `dtrain run` (its --run-dir; default runs/JOB-ID)" };
        var output = new Option<string?>("--out") { Description = $"where to write the PNG plot [default: RUN_DIR/{PlotFile}]" }.AcceptOutputFile();
        var command = new Command("report",
            $"Plot a run's loss and throughput over its steps (PNG) and print its summary: steps, final loss, median samples/s (and the last epoch's, as the ranks measured it), wall time, restarts. " +
            $"Reads the run directory's {RunDirectory.ProgressFile} and {RunDirectory.SummaryFile}.")
        {
            directory, output,
        };
        command.SetAction(parse =>
        {
            var report = RunReport.Read(parse.GetValue(directory)!);
            string plot = parse.GetValue(output) ?? Path.Combine(report.Directory, PlotFile);
            ReportPlot.Save(report, plot);
            foreach (string line in report.Describe()) Console.WriteLine(line);
            Console.WriteLine($"plot: {plot}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
