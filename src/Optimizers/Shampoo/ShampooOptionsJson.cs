using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dtrain.Optimizers.Shampoo;

/// <summary>How <see cref="ShampooOptions"/> travel from the launcher to the workers: JSON with the reference's snake_case names.</summary>
public static class ShampooOptionsJson
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        IgnoreReadOnlyProperties = true,
    };

    public static string Serialize(ShampooOptions options) => JsonSerializer.Serialize(options, Json);

    public static ShampooOptions Deserialize(string json) =>
        JsonSerializer.Deserialize<ShampooOptions>(json, Json) ?? throw new JsonException("the Shampoo options are null");
}
