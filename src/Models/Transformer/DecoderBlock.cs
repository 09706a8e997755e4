using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dtrain.Models.Transformer;

/// <summary>A pre-norm decoder block: x + attention(norm(x)), then x + MLP(norm(x)) with a 4x wide GELU hidden layer.</summary>
public sealed class DecoderBlock : Module<Tensor, Tensor>
{
    private readonly LayerNorm attentionNorm;
    private readonly CausalSelfAttention attention;
    private readonly LayerNorm mlpNorm;
    private readonly Linear expand;
    private readonly GELU activation;
    private readonly Linear contract;

    public DecoderBlock(int width, int heads) : base(nameof(DecoderBlock))
    {
        attentionNorm = LayerNorm(width);
        attention = new CausalSelfAttention(width, heads);
        mlpNorm = LayerNorm(width);
        expand = Linear(width, 4 * width);
        activation = GELU();
        contract = Linear(4 * width, width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var x = input.add(attention.call(attentionNorm.call(input)), Scalars.One);
        return x.add(contract.call(activation.call(expand.call(mlpNorm.call(x)))), Scalars.One);
    }
}
