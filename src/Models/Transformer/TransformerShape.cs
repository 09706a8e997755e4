namespace Dtrain.Models.Transformer;

/// <summary>The shape of a <see cref="TransformerLm"/>: what its constructor takes.</summary>
public sealed record TransformerShape(int Vocabulary, int Context, int Width, int Layers, int Heads)
{
    public TransformerLm CreateModel() => new(Vocabulary, Context, Width, Layers, Heads);
}
