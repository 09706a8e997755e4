using System.Globalization;
using Dtrain.Contracts;

namespace Dtrain.Graph.Generators;

/// <summary>
/// Reads a generator's options from name/value strings (as the CLI passes them), falling back to the options
/// record's defaults, and remembers which names it read so that a misspelt option is an error, not ignored.
/// </summary>
internal sealed class GeneratorOptionReader(string kind, IReadOnlyDictionary<string, string> options)
{
    private readonly HashSet<string> read = [];

    public int Int(string name, int fallback) => Parse(name, fallback, text => int.Parse(text, CultureInfo.InvariantCulture), "an integer");

    public long Long(string name, long fallback) => Parse(name, fallback, text => long.Parse(text, CultureInfo.InvariantCulture), "an integer");

    public long? Long(string name, long? fallback) => Parse(name, fallback, text => (long?)long.Parse(text, CultureInfo.InvariantCulture), "an integer");

    public double Double(string name, double fallback) => Parse(name, fallback, text => double.Parse(text, CultureInfo.InvariantCulture), "a number");

    public bool Bool(string name, bool fallback) => Parse(name, fallback, bool.Parse, "true or false");

    public SplitFractions Split(SplitFractions fallback) =>
        new(Double("train", fallback.Train), Double("val", fallback.Validation), Double("test", fallback.Test));

    /// <summary>Throws naming the first option that no read asked for.</summary>
    public void RejectUnread()
    {
        var unknown = options.Keys.Where(name => !read.Contains(name)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            string known = read.Count == 0 ? "it takes none" : $"it takes {string.Join(", ", read.Order(StringComparer.Ordinal))}";
            throw new DtrainException($"{kind} has no option {unknown[0]} ({known})");
        }
    }

    private T Parse<T>(string name, T fallback, Func<string, T> parse, string expected)
    {
        read.Add(name);
        if (!options.TryGetValue(name, out var text)) return fallback;
        try
        {
            return parse(text.Trim());
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new DtrainException($"{kind} option {name} = '{text}' is not {expected}");
        }
    }
}
