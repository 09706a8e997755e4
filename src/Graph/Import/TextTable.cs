using System.Globalization;
using Dtrain.Contracts;

namespace Dtrain.Graph.Import;

/// <summary>
/// A CSV, TSV or whitespace-separated text table read line by line: the separator is a tab if the first data line
/// has one, else a comma if it has one, else runs of spaces. Empty lines and lines starting with '#' are skipped;
/// a first line with a field that is not a number (nor true or false) is a header and skipped too. Every row must
/// have the first row's number of fields.
/// </summary>
internal static class TextTable
{
    private static bool IsValue(string field) =>
        field is "true" or "True" or "false" or "False" || double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    public static bool IsText(string path) => !path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);

    /// <summary>Each data row's fields with its line number.</summary>
    public static IEnumerable<(int Line, string[] Fields)> Rows(string path)
    {
        using var text = new StreamReader(path);
        char[]? separators = null;
        int expected = -1, line = 0;
        while (text.ReadLine() is { } content)
        {
            line++;
            if (content.Length == 0 || content[0] == '#' || string.IsNullOrWhiteSpace(content)) continue;
            separators ??= content.Contains('\t') ? ['\t'] : content.Contains(',') ? [','] : [' '];
            var fields = content.Split(separators, separators[0] == ' ' ? StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries : StringSplitOptions.TrimEntries);
            if (expected < 0)
            {
                expected = fields.Length;
                if (!fields.All(IsValue)) continue;
            }
            if (fields.Length != expected) throw new DtrainException($"{path}, line {line}: {fields.Length} fields, but the rows before have {expected}");
            yield return (line, fields);
        }
    }
}
