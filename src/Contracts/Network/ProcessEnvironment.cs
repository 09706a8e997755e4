using System.Collections;

namespace Dtrain.Contracts.Network;

/// <summary>This process's environment variables, for readers that take them as a dictionary (tests pass their own).</summary>
public static class ProcessEnvironment
{
    public static IReadOnlyDictionary<string, string> Variables() =>
        Environment.GetEnvironmentVariables().Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
}
