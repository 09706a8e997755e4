using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dtrain.Launcher.Monitoring;

/// <summary>How dtrain writes JSON for scripts: snake_case names, absent values left out, NaN as "NaN" (a diverged loss).</summary>
public static class RunJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
