using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Dtrain.Contracts.Jobs;

/// <summary>
/// The one serialized form of a <see cref="JobSpec"/>: snake_case fields in the job's sections, kebab-case choices.
/// Workers receive it from the coordinator; job files and flags are read into it and layered before it becomes a
/// JobSpec, so every setting is read the same way from anywhere.
/// </summary>
public static class JobJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false), new FiniteNumberConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        // A null where the job has no null (fanouts: ~) is a field of the wrong form, not a job that fails later.
        RespectNullableAnnotations = true,
        IgnoreReadOnlyProperties = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    public static string Serialize(JobSpec job) => JsonSerializer.Serialize(job, Options);

    public static JsonObject ToNode(JobSpec job) => JsonSerializer.SerializeToNode(job, Options)!.AsObject();

    public static JobSpec Deserialize(string json) => FromNode(JsonNode.Parse(json) ?? new JsonObject());

    /// <summary>The job a document describes; a <see cref="JobFieldException"/> naming the field that does not fit.</summary>
    public static JobSpec FromNode(JsonNode document)
    {
        try
        {
            return document.Deserialize<JobSpec>(Options) ?? new JobSpec();
        }
        catch (JsonException e)
        {
            throw Describe(e, document);
        }
    }

    /// <summary>A choice as job files and flags spell it (cannon-mlp).</summary>
    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum => JsonSerializer.SerializeToNode(value, Options)!.GetValue<string>();

    /// <summary>Every choice of an enum, as spelled.</summary>
    public static IEnumerable<string> Names(Type enumType) =>
        Enum.GetValues(enumType).Cast<object>().Select(value => JsonSerializer.SerializeToNode(value, enumType, Options)!.GetValue<string>());

    /// <summary>The field's name in a document.</summary>
    public static string FieldName(PropertyInfo property) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);

    /// <summary>The fields of a section type (JobSpec or one of its sections) a document may set.</summary>
    public static IEnumerable<PropertyInfo> Fields(Type section) =>
        section.GetProperties().Where(p => p.SetMethod is not null && p.Name != "EqualityContract");

    /// <summary>Whether a field is a section of fields of its own rather than a value.</summary>
    public static bool IsSection(PropertyInfo property) => IsSectionType(property.PropertyType);

    private static bool IsSectionType(Type type) => type.IsClass && !type.IsArray && type.Namespace == typeof(JobSpec).Namespace;

    /// <summary>The field at a dotted path (graph.fanouts), or null when the job has none.</summary>
    public static PropertyInfo? FieldAt(string path)
    {
        Type section = typeof(JobSpec);
        PropertyInfo? field = null;
        foreach (var name in path.Split('.'))
        {
            if (field is not null && !IsSection(field)) return null;
            field = Fields(section).FirstOrDefault(p => FieldName(p) == name);
            if (field is null) return null;
            section = field.PropertyType;
        }
        return field;
    }

    private static JobFieldException Describe(JsonException e, JsonNode document)
    {
        // Paths read $.graph.fanouts[1] or $['inverse_exponent_override']; the field is what precedes any index.
        string path = (e.Path ?? "$").TrimStart('$').TrimStart('.');
        int index = path.IndexOf('[');
        string fieldPath = index < 0 ? path : path[..index].TrimEnd('.');
        var field = FieldAt(fieldPath);
        // A key inside a field's own map (shampoo.inverse_exponent_override.2) is that field's.
        for (int dot = fieldPath.LastIndexOf('.'); field is null && dot > 0; dot = fieldPath.LastIndexOf('.', dot - 1))
        {
            if (FieldAt(fieldPath[..dot]) is { } owner && !IsSection(owner)) (field, fieldPath) = (owner, fieldPath[..dot]);
        }
        if (field is null)
        {
            int dot = fieldPath.LastIndexOf('.');
            var parent = dot < 0 ? typeof(JobSpec) : FieldAt(fieldPath[..dot])?.PropertyType ?? typeof(JobSpec);
            string known = string.Join(", ", Fields(parent).Select(FieldName));
            return new JobFieldException(fieldPath, name => $"unknown field {OneLine.Quoted(name)} (known: {known})");
        }
        string value = OneLine.Quoted(ValueAt(document, fieldPath) ?? "");
        var type = Nullable.GetUnderlyingType(field.PropertyType) ?? field.PropertyType;
        if (type.IsEnum)
        {
            return new JobFieldException(fieldPath, name => $"{name} must be one of {string.Join(", ", Names(type))}, got {value}");
        }
        return new JobFieldException(fieldPath, name => $"{name} must be {Expected(type)}, got {value}");
    }

    private static string Expected(Type type) =>
        type == typeof(int) || type == typeof(long) ? "a whole number"
        : type == typeof(double) ? "a number"
        : type == typeof(bool) ? "true or false"
        : type == typeof(int[]) ? "a list of whole numbers"
        : type == typeof(IReadOnlyDictionary<int, double[]>) ? "a map of whole numbers to lists of numbers"
        : IsSectionType(type) ? "a section of fields"
        : type == typeof(string) ? "text"
        : "another form";

    private static string? ValueAt(JsonNode document, string path)
    {
        JsonNode? node = document;
        foreach (var name in path.Split('.')) node = node is JsonObject section && section.TryGetPropertyValue(name, out var child) ? child : null;
        return node switch
        {
            null => null,
            JsonValue scalar => scalar.ToString(),
            _ => node.ToJsonString(),
        };
    }
}

/// <summary>
/// A job's numbers are finite: NaN and infinity (as "NaN" text, or 1e999) are a field of the wrong form when read, not
/// a job that every later step (a check, the coordinator's JSON for its workers) would have to refuse.
/// </summary>
internal sealed class FiniteNumberConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        double value = reader.TokenType switch
        {
            JsonTokenType.Number when reader.TryGetDouble(out double number) => number,
            JsonTokenType.String when double.TryParse(reader.GetString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double text) => text,
            _ => double.NaN,
        };
        return double.IsFinite(value) ? value : throw new JsonException("not a finite number");
    }

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

/// <summary>A job document's field that does not fit the job: unknown, or of the wrong form.</summary>
public sealed class JobFieldException(string path, Func<string, string> describe) : UsageException(describe(path))
{
    /// <summary>The field, dotted (graph.fanouts).</summary>
    public string Path { get; } = path;

    /// <summary>The problem, naming the field as the user wrote it (a flag: --graph-task).</summary>
    public string Naming(string name) => describe(name);
}
