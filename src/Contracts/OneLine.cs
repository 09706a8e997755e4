using System.Text.RegularExpressions;

namespace Dtrain.Contracts;

/// <summary>
/// Every error is one line: text that comes from a file or a flag, or a library's message that may quote it, is
/// shown with its control characters (line breaks) escaped, and a quoted value is cut short.
/// </summary>
public static partial class OneLine
{
    private const int MaxQuoted = 100;

    /// <summary>A value as a message quotes it: 'text', as <see cref="Shown"/>.</summary>
    public static string Quoted(string text) => $"'{Shown(text)}'";

    /// <summary>A value as a message shows it: control characters escaped, cut after 100 characters.</summary>
    public static string Shown(string text) => Escaped(text.Length > MaxQuoted ? text[..MaxQuoted] + "..." : text);

    /// <summary>A message (a parser's, say) with its control characters escaped.</summary>
    public static string Escaped(string text) => Control().Replace(text, c => $"\\u{(int)c.Value[0]:x4}");

    [GeneratedRegex(@"\p{Cc}")]
    private static partial Regex Control();
}
