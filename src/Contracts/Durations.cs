using System.Globalization;

namespace Dtrain.Contracts;

/// <summary>
/// The one rule for a duration given in seconds (a flag, a job file's *_s field): finite, positive (or zero where
/// that means "at once"), and at most <see cref="MaxSeconds"/>. The bound keeps every timer and TimeSpan made of it in
/// range (a CancellationTokenSource takes under 50 days); no wait in dtrain is meant to last longer than a week.
/// </summary>
public static class Durations
{
    public const double MaxSeconds = 7 * 24 * 3600;

    /// <summary>What is wrong with <paramref name="seconds"/> as <paramref name="name"/>, or null when nothing is.</summary>
    /// <param name="zeroAllowed">Whether 0 is a valid value (no wait at all).</param>
    public static string? Problem(string name, double seconds, bool zeroAllowed = false)
    {
        string value = seconds.ToString(CultureInfo.InvariantCulture);
        if (!double.IsFinite(seconds) || seconds < 0 || (seconds == 0 && !zeroAllowed))
        {
            return zeroAllowed ? $"{name} must be 0 or more seconds, got {value}" : $"{name} must be a positive number, got {value}";
        }
        return seconds > MaxSeconds ? $"{name} must be at most {MaxSeconds} seconds (7 days), got {value}" : null;
    }
}
