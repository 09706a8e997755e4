using System.Globalization;
using Spectre.Console;

namespace Dtrain.Launcher.Monitoring;

/// <summary>
/// A job's progress for a person, on stdout: a live bar (and one per rank with <paramref name="showRanks"/>) on a
/// terminal, or a plain line at every tenth of the run when the output goes to a file or a pipe (CI logs, tests),
/// where a redrawn bar would be noise.
/// </summary>
public sealed class TerminalOutput(bool showRanks) : IRunOutput
{
    /// <summary>
    /// Writes a line from any thread: through Spectre above a live bar (a plain write would tear it), plainly
    /// otherwise (Spectre would wrap it at 80 columns in a log).
    /// </summary>
    public void Say(string line)
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

    public void Finish(RunSummary summary)
    {
        if (summary.Message is { } line) Say(line);
    }

    public async Task<T> FollowAsync<T>(int totalSteps, Func<Action<JobSnapshot>, Task<T>> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            int nextMark = 1;
            return await work(snapshot =>
            {
                if (snapshot.Step * 10 < nextMark * totalSteps) return;
                Say(Describe(snapshot));
                if (showRanks)
                {
                    foreach (var rank in snapshot.Ranks) Say($"  {DescribeRank(rank)}");
                }
                nextMark = snapshot.Step * 10 / totalSteps + 1;
            });
        }

        T result = default!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var bar = context.AddTask("starting workers", maxValue: totalSteps);
                var rankBars = new Dictionary<int, ProgressTask>();
                result = await work(snapshot =>
                {
                    bar.Value = snapshot.Step;
                    bar.Description = Markup.Escape(Describe(snapshot));
                    if (!showRanks) return;
                    foreach (var rank in snapshot.Ranks.OrderBy(r => r.Rank))
                    {
                        if (!rankBars.TryGetValue(rank.Rank, out var rankBar))
                        {
                            rankBars[rank.Rank] = rankBar = context.AddTask($"rank {rank.Rank}", maxValue: totalSteps);
                        }
                        rankBar.Value = rank.Step;
                        rankBar.Description = Markup.Escape(DescribeRank(rank));
                    }
                });
                bar.Value = totalSteps;
            });
        return result;
    }

    private static string Describe(JobSnapshot s) =>
        $"step {s.Step}/{s.TotalSteps}  loss {s.Loss:0.0000}  {s.SamplesPerSecond:0} samples/s" +
        (s.Remaining is { } eta ? $"  ETA {eta.ToString(eta.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture)}" : "");

    private static string DescribeRank(RankView rank) =>
        $"rank {rank.Rank}: step {rank.Step}, loss {rank.Loss:0.0000}, heard {(DateTime.UtcNow - rank.HeardAt).TotalSeconds:0.0} s ago";
}
