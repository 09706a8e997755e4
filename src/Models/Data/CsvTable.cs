using System.Globalization;
using System.Text;
using static TorchSharp.torch;
using Dtrain.Contracts.Storage;

namespace Dtrain.Models.Data;

/// <summary>
/// A table of numbers from a CSV or TSV file (gzipped when the name ends .gz): one sample per line, one label
/// column, every other column a feature. Labels that are all integers are the class ids themselves; otherwise each
/// distinct label is a class, numbered in ordinal sort order (<see cref="ClassNames"/>). Fields may be quoted
/// ("x"), but a quoted field cannot hold the delimiter. Blank lines are skipped. The file is read a line at a
/// time: only the numbers are kept.
/// </summary>
public sealed class CsvTable
{
    private readonly float[] features;
    private readonly long[] labels;

    private CsvTable(
        string path, float[] features, long[] labels, int featureCount, int classes,
        IReadOnlyList<string>? featureNames, string? labelName, IReadOnlyList<string>? classNames)
    {
        (this.features, this.labels) = (features, labels);
        (Path, Features, Classes, FeatureNames, LabelName, ClassNames) =
            (path, featureCount, classes, featureNames, labelName, classNames);
    }

    public string Path { get; }

    public int Rows => labels.Length;

    public int Features { get; }

    /// <summary>The number of classes: as many as <see cref="ClassNames"/>, or the largest integer label + 1.</summary>
    public int Classes { get; }

    /// <summary>The feature columns' names from the header, in order; null when the file has none.</summary>
    public IReadOnlyList<string>? FeatureNames { get; }

    /// <summary>The label column's name from the header; null when the file has none.</summary>
    public string? LabelName { get; }

    /// <summary>Where labels are strings, the name of each class id (class i is ClassNames[i]); null where they are integers.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>The features, row after row: Rows × Features values.</summary>
    public ReadOnlySpan<float> FeatureValues => features;

    /// <summary>The class id of each row.</summary>
    public ReadOnlySpan<long> Labels => labels;

    /// <summary>Reads <paramref name="path"/>; bad content throws a <see cref="DataFormatException"/> naming the line.</summary>
    public static CsvTable Read(string path, CsvOptions? options = null)
    {
        options ??= new CsvOptions();
        options.Validate();
        return DataFile.Read(path, stream => new Loader(path, options).Load(stream));
    }

    /// <summary>The whole table as a [Rows, Features] float32 tensor and [Rows] int64 labels.</summary>
    public (Tensor Inputs, Tensor Labels) ToTensors(Device? device = null) =>
        (tensor(features, [Rows, Features], device: device), tensor(labels, device: device));

    /// <summary>The rows at <paramref name="indices"/> (from a <see cref="DistributedSampler"/>) as [n, Features] and [n].</summary>
    public (Tensor Inputs, Tensor Labels) Batch(ReadOnlySpan<long> indices, Device? device = null)
    {
        var inputs = new float[indices.Length * Features];
        var batchLabels = new long[indices.Length];
        for (int row = 0; row < indices.Length; row++)
        {
            features.AsSpan(checked((int)indices[row] * Features), Features).CopyTo(inputs.AsSpan(row * Features));
            batchLabels[row] = labels[indices[row]];
        }
        return (tensor(inputs, [indices.Length, Features], device: device), tensor(batchLabels, device: device));
    }

    /// <summary>One read of one file: the first line settles the delimiter, the columns and the header; the rest are rows.</summary>
    private sealed class Loader(string path, CsvOptions options)
    {
        private readonly List<float> features = [];
        private readonly List<int> rowLabels = [];
        // Each distinct label text once, in the order first seen, with the line it was first seen on.
        private readonly Dictionary<string, int> labelIds = new(StringComparer.Ordinal);
        private readonly List<(string Text, int Line)> distinctLabels = [];
        private char delimiter;
        private int firstLine, fieldCount, labelColumn;
        private string[]? header;

        public CsvTable Load(Stream stream)
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            int number = 0;
            for (string? line; (line = reader.ReadLine()) is not null;)
            {
                number++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                if (firstLine == 0)
                {
                    firstLine = number;
                    if (Settle(line)) continue;
                }
                AddRow(line, number);
            }
            if (firstLine == 0) throw new DataFormatException(path, "the file is empty");
            if (rowLabels.Count == 0) throw new DataFormatException(path, $"line {firstLine} is a header and no rows follow it");
            return Finish();
        }

        /// <summary>Reads the columns off the first line; true when it is a header rather than a row.</summary>
        private bool Settle(string line)
        {
            delimiter = options.Delimiter ?? "\t,;".MaxBy(candidate => line.AsSpan().Count(candidate));
            string[] fields = [.. line.Split(delimiter).Select(field => Unquote(field).ToString())];
            fieldCount = fields.Length;
            if (fieldCount < 2)
            {
                string detected = options.Delimiter is null ? " (no tab, comma or semicolon separates fields)" : "";
                throw new DataFormatException(path, $"line {firstLine} has 1 field, and a table needs a feature and a label{detected}");
            }
            labelColumn = options.LabelIndex ?? fieldCount - 1;
            if (labelColumn >= fieldCount)
            {
                throw new DataFormatException(path, $"line {firstLine} has {fieldCount} fields, so no label column {labelColumn} (columns count from 0)");
            }
            bool isHeader = options.HasHeader ?? (options.LabelName is not null
                || fields.Where((_, column) => column != labelColumn).Any(field => !float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _)));
            if (!isHeader) return false;
            header = fields;
            if (options.LabelName is { } name)
            {
                labelColumn = Array.IndexOf(fields, name);
                if (labelColumn < 0)
                {
                    throw new DataFormatException(path, $"line {firstLine}: the header has no label column \"{name}\" (its columns: {string.Join(", ", fields)})");
                }
            }
            return true;
        }

        private void AddRow(string line, int number)
        {
            var rest = line.AsSpan();
            int count = rest.Count(delimiter) + 1;
            if (count != fieldCount)
            {
                string settled = header is null ? $"line {firstLine}" : "the header";
                throw new DataFormatException(path, $"line {number} has {count} fields, {settled} has {fieldCount}");
            }
            for (int column = 0; column < fieldCount; column++)
            {
                int end = rest.IndexOf(delimiter);
                var field = Unquote(end < 0 ? rest : rest[..end]);
                rest = end < 0 ? default : rest[(end + 1)..];
                if (column == labelColumn) AddLabel(field, number);
                else features.Add(Number(field, number, column));
            }
        }

        private float Number(ReadOnlySpan<char> field, int number, int column)
        {
            string where = header is null ? $"line {number}, field {column + 1}" : $"line {number}, field {column + 1} (\"{header[column]}\")";
            if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
            {
                throw new DataFormatException(path, $"{where}: \"{field}\" is not a number");
            }
            // NaN and infinities (and numbers beyond float32's range, which parse as infinities) would poison training.
            if (!float.IsFinite(value)) throw new DataFormatException(path, $"{where}: \"{field}\" is not a finite number");
            return value;
        }

        private void AddLabel(ReadOnlySpan<char> field, int number)
        {
            if (field.IsEmpty) throw new DataFormatException(path, $"line {number}: the label is empty");
            if (!labelIds.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(field, out int id))
            {
                id = distinctLabels.Count;
                distinctLabels.Add((field.ToString(), number));
                labelIds.Add(distinctLabels[id].Text, id);
            }
            rowLabels.Add(id);
        }

        /// <summary>Gives each distinct label its class id: its own value where all are integers, else its rank in sorted order.</summary>
        private CsvTable Finish()
        {
            var classOf = new long[distinctLabels.Count];
            bool integers = true;
            for (int id = 0; id < classOf.Length && integers; id++)
            {
                integers = long.TryParse(distinctLabels[id].Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out classOf[id]);
            }
            string[]? classNames = null;
            if (integers)
            {
                int bad = Array.FindIndex(classOf, label => label is < 0 or >= int.MaxValue);
                if (bad >= 0)
                {
                    throw new DataFormatException(path, $"line {distinctLabels[bad].Line}: label {classOf[bad]} is not a class id (integer labels count classes from 0)");
                }
            }
            else
            {
                classNames = [.. distinctLabels.Select(label => label.Text).Order(StringComparer.Ordinal)];
                for (int id = 0; id < classOf.Length; id++) classOf[id] = Array.BinarySearch(classNames, distinctLabels[id].Text, StringComparer.Ordinal);
            }
            return new CsvTable(
                path, [.. features], [.. rowLabels.Select(id => classOf[id])], fieldCount - 1,
                classNames?.Length ?? (int)classOf.Max() + 1,
                header?.Where((_, column) => column != labelColumn).ToArray(), header?[labelColumn], classNames);
        }

        private static ReadOnlySpan<char> Unquote(ReadOnlySpan<char> field)
        {
            field = field.Trim();
            return field is ['"', .., '"'] ? field[1..^1] : field;
        }
    }
}
