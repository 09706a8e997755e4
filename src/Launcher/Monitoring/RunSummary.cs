using System.Text.Json.Serialization;

namespace Dtrain.Launcher.Monitoring;

/// <summary>
/// How a run ended: the last object `dtrain run --json` prints, and summary.json in the run directory. Values a
/// run did not reach (a final loss before the end, a checkpoint never taken) are left out.
/// </summary>
public sealed record RunSummary
{
    public const string Completed = "completed", Failed = "failed", Interrupted = "interrupted";

    /// <summary><see cref="Completed"/> (exit code 0), <see cref="Failed"/> (1) or <see cref="Interrupted"/> (130 or 143).</summary>
    public required string Status { get; init; }

    /// <summary>The step the job reached (the slowest rank's).</summary>
    public required int Steps { get; init; }

    public required int TotalSteps { get; init; }

    public required int Workers { get; init; }

    public double? FinalLoss { get; init; }

    public double? TestAccuracy { get; init; }

    /// <summary>
    /// Samples per second over the last epoch, all ranks together: for a completed run, each rank's own measure from
    /// its first step's end to its last; otherwise the launcher's last sighting of the epoch's progress.
    /// </summary>
    public double? SamplesPerSecond { get; init; }

    /// <summary>SHA-256 of the final parameters, the same on every rank.</summary>
    public string? ParameterDigest { get; init; }

    public required double WallTimeSeconds { get; init; }

    public required int Restarts { get; init; }

    /// <summary>The newest committed checkpoint's directory.</summary>
    public string? LastCheckpoint { get; init; }

    public required string RunDir { get; init; }

    public string? Error { get; init; }

    /// <summary>The line a person reads at the end of a completed run; failures and interruptions are told on stderr.</summary>
    [JsonIgnore]
    public string? Message { get; init; }
}
