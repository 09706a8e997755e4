namespace Dtrain.Launcher.Monitoring;

/// <summary>
/// Where a run's messages, progress and end go: a terminal (<see cref="TerminalOutput"/>), only the end
/// (<see cref="QuietOutput"/>, `--quiet`), or JSON lines for scripts (<see cref="JsonOutput"/>, `--json`).
/// Errors are not among them: they go to stderr, in one line, whatever the output.
/// </summary>
public interface IRunOutput
{
    /// <summary>An event worth a line (a worker's output, a restart, where the run resumes); callable from any thread.</summary>
    void Say(string line);

    /// <summary>Shows progress while <paramref name="work"/> runs; the work reports each snapshot through its argument.</summary>
    Task<T> FollowAsync<T>(int totalSteps, Func<Action<JobSnapshot>, Task<T>> work);

    /// <summary>How the run ended.</summary>
    void Finish(RunSummary summary);
}
