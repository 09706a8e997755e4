using System.Globalization;
using System.Text.Json.Nodes;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Dtrain.Launcher.Jobs;

/// <summary>
/// A YAML job file: the job's fields in snake_case, in the job's sections (graph, checkpoints, elastic, shampoo).
/// Every field is optional; an unknown field is an error, not a silently ignored typo. It becomes the job's JSON
/// document, remembering the line of every field so that a problem names its line.
/// </summary>
public sealed class JobFile
{
    private readonly string path;
    private readonly Dictionary<string, long> lines = [];

    public JsonObject Document { get; }

    private JobFile(string path, YamlMappingNode? root)
    {
        this.path = path;
        Document = root is null ? [] : Section(root, "");
    }

    public static JobFile Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read job file {path}: {e.Message}");
        }
        var yaml = new YamlStream();
        try
        {
            yaml.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new UsageException($"job file {path}, line {e.Start.Line}: not valid YAML: {(e.InnerException ?? e).Message}");
        }
        var root = yaml.Documents.FirstOrDefault()?.RootNode;
        if (root is not (null or YamlMappingNode) && !(root is YamlScalarNode { Value: null or "" }))
        {
            throw new UsageException($"job file {path}, line {root.Start.Line}: expected fields such as 'workers: 4'");
        }
        return new JobFile(path, root as YamlMappingNode);
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

    private JsonObject Section(YamlMappingNode mapping, string prefix)
    {
        var section = new JsonObject();
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? keyNode.ToString();
            string fieldPath = prefix + key;
            lines[fieldPath] = keyNode.Start.Line;
            section[key] = Value(valueNode, fieldPath);
        }
        return section;
    }

    private JsonNode? Value(YamlNode node, string fieldPath) => node switch
    {
        YamlMappingNode mapping => Section(mapping, fieldPath + "."),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(child => Value(child, fieldPath)).ToArray()),
        YamlScalarNode scalar => Scalar(scalar, JobJson.FieldAt(fieldPath)?.PropertyType),
        _ => null,
    };

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

    /// <summary>A plain value (a YAML scalar or a flag's): null, true, false, a number, or else text.</summary>
    public static JsonNode? ReadPlain(string text)
    {
        if (text is "" or "~" or "null") return null;
        if (text is "true" or "false") return JsonValue.Create(text == "true");
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long whole)) return JsonValue.Create(whole);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)) return JsonValue.Create(number);
        return JsonValue.Create(text);
    }
}
