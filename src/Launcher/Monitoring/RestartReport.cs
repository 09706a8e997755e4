using Dtrain.Contracts.Jobs;

namespace Dtrain.Launcher.Monitoring;

/// <summary>Says when an epoch ended and what it cost, and when its successor trains again.</summary>
public sealed class RestartReport(JobSpec job, IRunOutput output)
{
    private RestartView? said;
    private RestartView? awaitingProgress;

    /// <summary>Restarts so far (growing the world is not one).</summary>
    public int Restarts { get; private set; }

    public void Observe(JobView status)
    {
        if (status.LastRestart is not { } restart || restart.Epoch == said?.Epoch) return;
        // Growing the world (a worker joined a short-handed epoch) is not a restart.
        string count = status.Restarts > Restarts ? $", restart {status.Restarts} of {job.Elastic.MaxRestarts}" : "";
        output.Say($"{restart.Reason}; reached step {restart.ReachedStep}, restarting from step {restart.ResumeStep} ({restart.LostSteps} steps lost{count})");
        (said, Restarts, awaitingProgress) = (restart, status.Restarts, restart);
    }

    public void Observe(JobSnapshot snapshot)
    {
        if (awaitingProgress is not { } restart || snapshot.Step <= restart.ResumeStep) return;
        output.Say($"epoch {restart.Epoch} trains again: step {snapshot.Step} {(DateTime.UtcNow - restart.At).TotalSeconds:0.00} s after the restart began");
        awaitingProgress = null;
    }
}
