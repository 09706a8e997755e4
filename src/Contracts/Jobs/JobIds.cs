using System.Text.RegularExpressions;

namespace Dtrain.Contracts.Jobs;

/// <summary>
/// A job's id names its run directory, its token, its metrics and, on Kubernetes, its objects, so it is a DNS
/// label everywhere: 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit. That
/// rules out paths ("../x"), spaces and line breaks.
/// </summary>
public static partial class JobIds
{
    public const int MaxLength = 63;

    public static bool IsDnsLabel(string text, int maxLength = MaxLength) => text.Length <= maxLength && DnsLabel().IsMatch(text);

    /// <summary>What is wrong with <paramref name="id"/> as a job id; null when nothing is.</summary>
    public static string? Problem(string id) => IsDnsLabel(id)
        ? null
        : $"job id {OneLine.Quoted(id)} must be a DNS label: 1 to {MaxLength} lower-case letters, digits and '-', starting and ending with a letter or digit";

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
