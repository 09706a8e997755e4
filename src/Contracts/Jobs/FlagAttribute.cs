namespace Dtrain.Contracts.Jobs;

/// <summary>
/// Makes a job setting a command-line flag of `dtrain run` and `dtrain coordinator`; the flag's help ends with
/// the setting's default. A bool setting is a switch that also takes true or false.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FlagAttribute(string name, string help) : Attribute
{
    public string Name { get; } = name;

    public string Help { get; } = help;

    /// <summary>A short alias, such as -n.</summary>
    public string? Alias { get; init; }

    /// <summary>Whether the default is left out of the help (an empty default, or one the help names).</summary>
    public bool HideDefault { get; init; }
}
