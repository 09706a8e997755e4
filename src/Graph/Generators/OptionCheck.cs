using System.Globalization;
using Dtrain.Contracts;

namespace Dtrain.Graph.Generators;

internal static class OptionCheck
{
    /// <summary>Throws a one-line <see cref="DtrainException"/> naming the generator, the option and its bad value.</summary>
    public static void Require(bool valid, string kind, string option, IFormattable value, string problem)
    {
        if (!valid) throw new DtrainException($"{kind} option {option} = {value.ToString(null, CultureInfo.InvariantCulture)} {problem}");
    }
}
