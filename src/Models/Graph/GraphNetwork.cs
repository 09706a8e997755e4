using Dtrain.Contracts.Jobs;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dtrain.Models.Graph;

/// <summary>
/// A graph network for mini-batch training on sampled blocks: one layer per block (<see cref="SageLayer"/>,
/// <see cref="SagePoolLayer"/> or <see cref="GatLayer"/>), ReLU between layers. Block i feeds layer i; the last
/// block's destinations are the batch's seed nodes, whose rows come out. Layers are invoked with call(), which runs
/// their forward hooks (data-parallel training's gradient-ready signals).
/// </summary>
public sealed class GraphNetwork : Module<Tensor, IReadOnlyList<MessageFlow>, Tensor>
{
    /// <summary>GAT's heads: concatenated in the hidden layers (each hidden / heads wide), averaged in the last.</summary>
    public const int AttentionHeads = 4;

    private readonly TorchSharp.Modules.ModuleList<Module<Tensor, MessageFlow, Tensor>> layers = new();

    /// <param name="kind">The layers.</param>
    /// <param name="inputs">Feature dimension.</param>
    /// <param name="hidden">Width of the hidden layers (for GAT, a multiple of <see cref="AttentionHeads"/>).</param>
    /// <param name="outputs">Classes (logits), or the embedding width for link prediction.</param>
    /// <param name="layerCount">Layers, one per sampled hop.</param>
    public GraphNetwork(GnnKind kind, int inputs, int hidden, int outputs, int layerCount) : base(nameof(GraphNetwork))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layerCount, 1);
        if (kind == GnnKind.Gat && hidden % AttentionHeads != 0) throw new ArgumentException($"GAT's hidden width {hidden} is not a multiple of its {AttentionHeads} heads");
        for (int i = 0; i < layerCount; i++)
        {
            int layerInputs = i == 0 ? inputs : hidden;
            bool last = i == layerCount - 1;
            int layerOutputs = last ? outputs : hidden;
            layers.Add(kind switch
            {
                GnnKind.SagePool => new SagePoolLayer(layerInputs, layerOutputs),
                GnnKind.Gat => new GatLayer(layerInputs, last ? outputs : hidden / AttentionHeads, AttentionHeads, averageHeads: last),
                _ => new SageLayer(layerInputs, layerOutputs),
            });
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
