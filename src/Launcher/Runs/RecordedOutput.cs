using Dtrain.Launcher.Monitoring;

namespace Dtrain.Launcher.Runs;

/// <summary>Keeps what a run shows in its run directory (messages, each new step, the summary), then shows it through <paramref name="shown"/>.</summary>
public sealed class RecordedOutput(RunDirectory directory, IRunOutput shown) : IRunOutput
{
    public void Say(string line)
    {
        directory.Log(RunDirectory.LauncherLog, line);
        shown.Say(line);
    }

    public Task<T> FollowAsync<T>(int totalSteps, Func<Action<JobSnapshot>, Task<T>> work)
    {
        JobSnapshot? last = null;
        return shown.FollowAsync(totalSteps, report => work(snapshot =>
        {
            if (snapshot.IsNewStepSince(last)) directory.Record(ProgressRow.Of(snapshot, DateTimeOffset.UtcNow));
            last = snapshot;
            report(snapshot);
        }));
    }

    public void Finish(RunSummary summary)
    {
        directory.WriteSummary(summary);
        // The error is not shown here (it goes to stderr), but the log keeps it too.
        if ((summary.Message ?? summary.Error) is { } line) directory.Log(RunDirectory.LauncherLog, line);
        shown.Finish(summary);
    }
}
