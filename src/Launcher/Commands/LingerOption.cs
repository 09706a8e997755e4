using System.CommandLine;
using System.Globalization;
using Dtrain.Launcher.Options;

namespace Dtrain.Launcher.Commands;

/// <summary>
/// `--linger`, of the commands that run a coordinator: the coordinator exits as soon as the job ends, so without it no
/// scrape would ever see the job's final state.
/// </summary>
public static class LingerOption
{
    public static Option<double> Create() => new Option<double>("--linger")
    {
        Description = "seconds the coordinator keeps serving /metrics after the job ended, so that a Prometheus scrape sees its final " +
            "dtrain_job_state (completed or failed); Ctrl-C ends the wait",
        DefaultValueFactory = _ => 0,
    }.AcceptSeconds(zeroAllowed: true);

    /// <summary>Waits <paramref name="seconds"/> while the caller's coordinator keeps serving, saying so first; cancellation ends it quietly.</summary>
    public static async Task WaitAsync(double seconds, Action<string> say, CancellationToken ct)
    {
        if (seconds <= 0) return;
        say(string.Create(CultureInfo.InvariantCulture, $"the coordinator's /metrics shows the job's final state for {seconds:0.###} s (--linger)"));
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds), ct);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
