using System.Globalization;
using System.Text.Json.Nodes;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Dtrain.Launcher.Jobs;

/// <summary>
/// A YAML job file: the job's fields in snake_case, in the job's sections (graph, checkpoints, elastic, shampoo).
/// Every field is optional; an unknown field is an error, not a silently ignored typo. It becomes the job's JSON
/// document, remembering the line of every field so that a problem names its line.
/// </summary>
public sealed class JobFile
{
    /// <summary>The most a job file may hold: far more than any job needs, and a file such as /dev/zero is refused at once.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>
    /// The deepest nesting and the most values a job file may have. A job nests two deep and has a hundred values;
    /// the bounds stop a file whose aliases expand exponentially ("billion laughs") or refer to themselves.
    /// </summary>
    private const int MaxDepth = 32, MaxValues = 100_000;

    private readonly string path;
    private readonly Dictionary<string, long> lines = [];
    private int values;

    public JsonObject Document { get; }

    private JobFile(string path, YamlMappingNode? root)
    {
        this.path = path;
        Document = root is null ? [] : Section(root, "", 0);
    }

    public static JobFile Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = ReadAtMost(path, MaxBytes + 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read job file {path}: {e.Message}");
        }
        if (bytes.Length > MaxBytes) throw new UsageException($"job file {path} is larger than {MaxBytes / 1024 / 1024} MiB, the most a job file may hold");
        using var text = new StreamReader(new MemoryStream(bytes), detectEncodingFromByteOrderMarks: true);
        return Parse(path, text.ReadToEnd());
    }

    /// <summary>The job file <paramref name="text"/>, as read from <paramref name="path"/> (which problems name).</summary>
    public static JobFile Parse(string path, string text)
    {
        var yaml = new YamlStream();
        try
        {
            CheckDepth(path, text);
            yaml.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new UsageException($"job file {path}, line {e.Start.Line}: not valid YAML: {OneLine.Escaped((e.InnerException ?? e).Message)}");
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner fails this way on some malformed flow collections ("[5, \xff\xfe...").
            throw new UsageException($"job file {path}: not valid YAML: {OneLine.Escaped(e.Message)}");
        }
        if (yaml.Documents.Count > 1)
        {
            throw new UsageException($"job file {path}, line {yaml.Documents[1].RootNode.Start.Line}: a second YAML document; a job file holds one");
        }
        var root = yaml.Documents.FirstOrDefault()?.RootNode;
        if (root is not (null or YamlMappingNode) && !(root is YamlScalarNode { Value: null or "" }))
        {
            throw new UsageException($"job file {path}, line {root.Start.Line}: expected fields such as 'workers: 4'");
        }
        return new JobFile(path, root as YamlMappingNode);
    }

    /// <summary>Refuses nesting deeper than <see cref="MaxDepth"/> before the document is built (which recurses as deep).</summary>
    private static void CheckDepth(string path, string text)
    {
        var parser = new Parser(new StringReader(text));
        int depth = 0;
        while (parser.MoveNext())
        {
            if (parser.Current is MappingStart or SequenceStart && ++depth > MaxDepth)
            {
                throw new UsageException($"job file {path}, line {parser.Current.Start.Line}: nested deeper than {MaxDepth} levels");
            }
            if (parser.Current is MappingEnd or SequenceEnd) depth--;
        }
    }

    /// <summary>Up to <paramref name="limit"/> bytes of the file: a device or pipe that never ends is read no further.</summary>
    private static byte[] ReadAtMost(string path, int limit)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        var buffer = new byte[limit];
        int length = stream.ReadAtLeast(buffer, limit, throwOnEndOfStream: false);
        return buffer[..length];
    }

    /// <summary>A problem with one of this file's fields, told with its line.</summary>
    public UsageException Locate(JobFieldException problem)
    {
        string key = problem.Path;
        while (!lines.ContainsKey(key) && key.Contains('.')) key = key[..key.LastIndexOf('.')];
        return lines.TryGetValue(key, out long line)
            ? new UsageException($"job file {path}, line {line}: {problem.Message}")
            : new UsageException($"job file {path}: {problem.Message}");
    }

    private JsonObject Section(YamlMappingNode mapping, string prefix, int depth)
    {
        var section = new JsonObject();
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? keyNode.ToString();
            string fieldPath = prefix + key;
            // YAML refuses a key twice, but tells `!!str workers` and `workers` apart: the job would take the last.
            if (lines.TryGetValue(fieldPath, out long first))
            {
                throw new UsageException($"job file {path}, line {keyNode.Start.Line}: duplicate key {OneLine.Quoted(fieldPath)} (first at line {first})");
            }
            lines[fieldPath] = keyNode.Start.Line;
            section[key] = Value(valueNode, fieldPath, depth + 1);
        }
        return section;
    }

    /// <summary>The dotted paths of the fields this file sets (graph.fanouts), sections left out.</summary>
    public IEnumerable<string> Fields => lines.Keys.Where(path => !lines.Keys.Any(other => other.StartsWith(path + ".", StringComparison.Ordinal)));

    private JsonNode? Value(YamlNode node, string fieldPath, int depth)
    {
        if (depth > MaxDepth || ++values > MaxValues)
        {
            throw new UsageException($"job file {path}, line {node.Start.Line}: its aliases expand to more than {MaxDepth} levels or {MaxValues} values");
        }
        return node switch
        {
            YamlMappingNode mapping => Section(mapping, fieldPath + ".", depth),
            YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(child => Value(child, fieldPath, depth + 1)).ToArray()),
            // An empty section (its fields all commented out) is a section without fields.
            YamlScalarNode { Value: null or "" or "~" or "null", Style: ScalarStyle.Plain } when JobJson.FieldAt(fieldPath) is { } field && JobJson.IsSection(field) => new JsonObject(),
            YamlScalarNode scalar => Scalar(scalar, JobJson.FieldAt(fieldPath)?.PropertyType),
            _ => null,
        };
    }

    /// <summary>
    /// YAML's scalars are untyped: a quoted one, or one for a text field, stays text; a plain one is read as null,
    /// true, false or a number when it is one.
    /// </summary>
    private static JsonNode? Scalar(YamlScalarNode scalar, Type? fieldType)
    {
        string text = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted || fieldType == typeof(string)) return JsonValue.Create(text);
        return ReadPlain(text);
    }

    /// <summary>A plain value (a YAML scalar or a flag's): null, true, false, a finite number, or else text.</summary>
    public static JsonNode? ReadPlain(string text)
    {
        if (text is "" or "~" or "null") return null;
        if (text is "true" or "false") return JsonValue.Create(text == "true");
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long whole)) return JsonValue.Create(whole);
        // NaN, Infinity and 1e999 stay text: JSON has no such number, so the field names itself as not a number.
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) && double.IsFinite(number)) return JsonValue.Create(number);
        return JsonValue.Create(text);
    }
}
