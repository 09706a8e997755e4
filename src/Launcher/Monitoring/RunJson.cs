using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dtrain.Launcher.Monitoring;

/// <summary>
/// How dtrain writes JSON for scripts: snake_case names, absent values left out, and a number that is not finite
/// (a diverged loss, an accuracy with nothing to score) as null, which every JSON parser reads.
/// </summary>
public static class RunJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new FiniteOrNull() },
    };

    /// <summary>Writes NaN and infinities as null and reads null back as NaN (and "NaN", as summaries of earlier versions hold it).</summary>
    private sealed class FiniteOrNull : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
        {
            JsonTokenType.Null => double.NaN,
            JsonTokenType.String when double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double named) => named,
            _ => reader.GetDouble(),
        };

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }
}
