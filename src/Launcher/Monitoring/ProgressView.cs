using Spectre.Console;

namespace Dtrain.Launcher.Monitoring;

/// <summary>
/// Shows a job's progress: a live bar on a terminal, or a plain line at every tenth of the run when the output
/// goes to a file or a pipe (CI logs, tests), where a redrawn bar would be noise.
/// </summary>
public static class ProgressView
{
    /// <summary>
    /// Writes a line from any thread: through Spectre above a live bar (a plain write would tear it), plainly
    /// otherwise (Spectre would wrap it at 80 columns in a log).
    /// </summary>
    public static void Say(string line)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Console.WriteLine(line);
        }
        else
        {
            Console.WriteLine(line);
        }
    }

    public static async Task<T> ShowAsync<T>(int totalSteps, Func<Action<JobSnapshot>, Task<T>> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            int nextMark = 1;
            return await work(snapshot =>
            {
                if (snapshot.Step * 10 >= nextMark * totalSteps)
                {
                    Say(Describe(snapshot));
                    nextMark = snapshot.Step * 10 / totalSteps + 1;
                }
            });
        }

        T result = default!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var bar = context.AddTask("starting workers", maxValue: totalSteps);
                result = await work(snapshot =>
                {
                    bar.Value = snapshot.Step;
                    bar.Description = Markup.Escape(Describe(snapshot));
                });
                bar.Value = totalSteps;
            });
        return result;
    }

    private static string Describe(JobSnapshot s) =>
        $"step {s.Step}/{s.TotalSteps}  loss {s.Loss:0.0000}  {s.SamplesPerSecond:0} samples/s";
}
