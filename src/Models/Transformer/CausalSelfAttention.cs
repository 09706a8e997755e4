using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dtrain.Models.Transformer;

/// <summary>
/// Multi-head self-attention in which position t sees positions up to t only: one linear layer makes queries, keys
/// and values for all heads, scaled dot-product attention runs with the causal mask (a fused kernel where libtorch
/// has one), and a linear layer projects the heads back.
/// </summary>
public sealed class CausalSelfAttention : Module<Tensor, Tensor>
{
    private readonly int heads;
    private readonly Linear queryKeyValue;
    private readonly Linear projection;

    public CausalSelfAttention(int width, int heads) : base(nameof(CausalSelfAttention))
    {
        if (width % heads != 0) throw new ArgumentException($"width {width} is not a multiple of heads {heads}");
        this.heads = heads;
        queryKeyValue = Linear(width, 3 * width);
        projection = Linear(width, width);
        RegisterComponents();
    }

    /// <param name="input">[batch, positions, width]</param>
    public override Tensor forward(Tensor input)
    {
        long batch = input.shape[0], positions = input.shape[1], width = input.shape[2];
        // [batch, positions, 3, heads, head width] -> three [batch, heads, positions, head width]
        var qkv = queryKeyValue.call(input).view(batch, positions, 3, heads, width / heads).permute(2, 0, 3, 1, 4);
        // Positional: TorchSharp 0.107 spells the last parameter is_casual.
        var attended = functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], null, 0.0, true);
        return projection.call(attended.transpose(1, 2).reshape(batch, positions, width));
    }
}
