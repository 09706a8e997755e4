using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dtrain.Models.Transformer;

/// <summary>
/// A small decoder-only language model (GPT-2's shape without dropout or weight tying): token and learned position
/// embeddings, <c>layers</c> pre-norm <see cref="DecoderBlock"/>s, a final layer norm and a linear head
/// giving next-token logits at every position. bench/overhead.py builds the same model in PyTorch. Layers are
/// invoked with call(), which runs their forward hooks (data-parallel training's gradient-ready signals).
/// </summary>
public sealed class TransformerLm : Module<Tensor, Tensor>
{
    private readonly Embedding tokens;
    private readonly Embedding positions;
    private readonly ModuleList<DecoderBlock> blocks;
    private readonly LayerNorm finalNorm;
    private readonly Linear head;

    public TransformerLm(int vocabulary, int context, int width, int layers, int heads) : base(nameof(TransformerLm))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        tokens = Embedding(vocabulary, width);
        positions = Embedding(context, width);
        blocks = new ModuleList<DecoderBlock>(Enumerable.Range(0, layers).Select(_ => new DecoderBlock(width, heads)).ToArray());
        finalNorm = LayerNorm(width);
        head = Linear(width, vocabulary);
        RegisterComponents();
    }

    /// <param name="input">[batch, positions] token ids, positions at most the context.</param>
    /// <returns>[batch, positions, vocabulary] logits of the token after each position.</returns>
    public override Tensor forward(Tensor input)
    {
        using Scalar first = 0L.ToScalar(), end = input.shape[1].ToScalar(), step = 1L.ToScalar();
        using var where = arange(first, end, step, dtype: ScalarType.Int64, device: input.device);
        var x = tokens.call(input).add(positions.call(where), Scalars.One);
        foreach (var block in blocks) x = block.call(x);
        return head.call(finalNorm.call(x));
    }
}
