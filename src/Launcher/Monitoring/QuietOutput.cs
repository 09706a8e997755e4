namespace Dtrain.Launcher.Monitoring;

/// <summary>`--quiet`: no messages, no progress; only a completed run's result line (errors still go to stderr).</summary>
public sealed class QuietOutput : IRunOutput
{
    public void Say(string line)
    {
    }

    public Task<T> FollowAsync<T>(int totalSteps, Func<Action<JobSnapshot>, Task<T>> work) => work(_ => { });

    public void Finish(RunSummary summary)
    {
        if (summary.Message is { } line) Console.WriteLine(line);
    }
}
