using System.Text.Json;

namespace Dtrain.Launcher.Monitoring;

/// <summary>
/// `--json`: one JSON object per line on stdout and nothing else there. Each has an "event": "message" (text),
/// "progress" (once per new step: epoch, step, total_steps, loss, samples_per_second, eta_s, ranks) and last
/// "summary" (a <see cref="RunSummary"/>).
/// </summary>
public sealed class JsonOutput(TextWriter stdout) : IRunOutput
{
    private readonly Lock gate = new();

    public void Say(string line) => Write(new { Event = "message", Text = line });

    public Task<T> FollowAsync<T>(int totalSteps, Func<Action<JobSnapshot>, Task<T>> work)
    {
        JobSnapshot? last = null;
        return work(snapshot =>
        {
            if (!snapshot.IsNewStepSince(last)) return;
            last = snapshot;
            var now = DateTime.UtcNow;
            Write(new
            {
                Event = "progress",
                snapshot.Epoch,
                snapshot.Step,
                snapshot.TotalSteps,
                snapshot.Loss,
                snapshot.SamplesPerSecond,
                EtaS = snapshot.Remaining?.TotalSeconds,
                Ranks = snapshot.Ranks.Select(r => new { r.Rank, r.Step, r.Loss, HeardSecondsAgo = (now - r.HeardAt).TotalSeconds }),
            });
        });
    }

    public void Finish(RunSummary summary)
    {
        var fields = JsonSerializer.SerializeToNode(summary, RunJson.Options)!.AsObject();
        fields.Insert(0, "event", "summary");
        Write(fields);
    }

    private void Write(object value)
    {
        string line = JsonSerializer.Serialize(value, RunJson.Options);
        lock (gate) stdout.WriteLine(line);
    }
}
