using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dtrain.Models.Graph;

/// <summary>
/// GraphSAGE for mini-batch training on sampled blocks: one <see cref="SageLayer"/> per block, ReLU between
/// layers. Block i feeds layer i; the last block's destinations are the batch's seed nodes, whose rows come out.
/// Layers are invoked with call(), which runs their forward hooks (data-parallel training's gradient-ready signals).
/// </summary>
public sealed class GraphSage : Module<Tensor, IReadOnlyList<MessageFlow>, Tensor>
{
    private readonly TorchSharp.Modules.ModuleList<SageLayer> layers = new();

    /// <param name="inputs">Feature dimension.</param>
    /// <param name="hidden">Width of the hidden layers.</param>
    /// <param name="outputs">Classes (logits), or the embedding width for link prediction.</param>
    /// <param name="layerCount">Layers, one per sampled hop.</param>
    public GraphSage(int inputs, int hidden, int outputs, int layerCount) : base(nameof(GraphSage))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layerCount, 1);
        for (int i = 0; i < layerCount; i++)
        {
            layers.Add(new SageLayer(i == 0 ? inputs : hidden, i == layerCount - 1 ? outputs : hidden));
        }
        RegisterComponents();
    }

    public int LayerCount => layers.Count;

    public override Tensor forward(Tensor inputs, IReadOnlyList<MessageFlow> blocks)
    {
        if (blocks.Count != layers.Count) throw new ArgumentException($"{blocks.Count} blocks for {layers.Count} layers");
        var h = inputs;
        for (int i = 0; i < layers.Count; i++)
        {
            h = layers[i].call(h, blocks[i]);
            if (i < layers.Count - 1) h = functional.relu(h);
        }
        return h;
    }
}
