using System.CommandLine;
using Dtrain.Models.Transformer;
using static System.FormattableString;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// The transformer LM's shape on the command line of the benches that train it (`overhead`, `adamw`): --width,
/// --layers, --heads, --context and --vocabulary, bound into a <see cref="TransformerShape"/>, their checks, and the
/// shape as the benches' tables describe it. A bench whose option means more says so in its description.
/// </summary>
public sealed class TransformerShapeOptions
{
    public Option<int> Width { get; } = new("--width") { Description = "transformer-lm: model width", DefaultValueFactory = _ => 128 };

    public Option<int> Layers { get; } = new("--layers") { Description = "transformer-lm: decoder blocks", DefaultValueFactory = _ => 2 };

    public Option<int> Heads { get; } = new("--heads") { Description = "transformer-lm: attention heads", DefaultValueFactory = _ => 4 };

    public Option<int> Context { get; } = new("--context") { Description = "transformer-lm: tokens per sequence", DefaultValueFactory = _ => 64 };

    public Option<int> Vocabulary { get; } = new("--vocabulary") { Description = "transformer-lm: tokens in the vocabulary", DefaultValueFactory = _ => 256 };

    public IEnumerable<Option> Options => [Width, Layers, Heads, Context, Vocabulary];

    public TransformerShape Bind(ParseResult parse) =>
        new(parse.GetValue(Vocabulary), parse.GetValue(Context), parse.GetValue(Width), parse.GetValue(Layers), parse.GetValue(Heads));

    /// <summary>Every problem with the shape, each naming the option and the bad value.</summary>
    public static IEnumerable<string> Problems(TransformerShape shape)
    {
        foreach (var problem in WidthAndLayersProblems(shape)) yield return problem;
        if (shape.Heads < 1 || shape.Width % shape.Heads != 0) yield return $"--heads must divide --width {shape.Width}, got {shape.Heads}";
        if (shape.Context < 1) yield return $"--context must be at least 1, got {shape.Context}";
        if (shape.Vocabulary < 2) yield return $"--vocabulary must be at least 2, got {shape.Vocabulary}";
    }

    /// <summary>The problems with --width and --layers alone: all the checks of a bench whose other model has only those.</summary>
    public static IEnumerable<string> WidthAndLayersProblems(TransformerShape shape)
    {
        if (shape.Width < 1) yield return $"--width must be at least 1, got {shape.Width}";
        if (shape.Layers < 1) yield return $"--layers must be at least 1, got {shape.Layers}";
    }

    /// <summary>The shape in the words of the benches' tables.</summary>
    public static string Describe(TransformerShape shape) =>
        Invariant($"{shape.Layers} blocks, width {shape.Width}, {shape.Heads} heads, context {shape.Context}, vocabulary {shape.Vocabulary}");
}
