namespace Dtrain.Models.Data;

/// <summary>How <see cref="CsvTable.Read"/> reads a file. What is left unset is detected from the file's first line.</summary>
/// <param name="Delimiter">The field separator. Unset: whichever of tab, comma and semicolon the first line has most of.</param>
/// <param name="HasHeader">
/// Whether the first line names the columns. Unset: it does when one of its feature fields is not a number (a header
/// of numbers only is taken for data: say so here).
/// </param>
/// <param name="LabelName">The label column by its header name; implies a header.</param>
/// <param name="LabelIndex">The label column by position, counting from 0. Unset, and no name: the last column.</param>
public sealed record CsvOptions(char? Delimiter = null, bool? HasHeader = null, string? LabelName = null, int? LabelIndex = null)
{
    internal void Validate()
    {
        if (LabelName is not null && LabelIndex is not null)
        {
            throw new ArgumentException($"give the label column by name (\"{LabelName}\") or by index ({LabelIndex}), not both");
        }
        if (LabelName is not null && HasHeader == false)
        {
            throw new ArgumentException($"the label column is named (\"{LabelName}\"), so the file needs a header, but HasHeader is false");
        }
        if (LabelIndex < 0) throw new ArgumentOutOfRangeException(nameof(LabelIndex), LabelIndex, "counts from 0");
    }
}
