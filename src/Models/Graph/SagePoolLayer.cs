using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dtrain.Models.Graph;

/// <summary>
/// A GraphSAGE layer with the max-pooling aggregator (Hamilton et al. 2017; DGL's SAGEConv 'pool'):
/// h'_v = W_self h_v + W_neigh max_{u in N(v)} ReLU(W_pool h_u + b_pool) + b, the max taken element-wise over one
/// sampled block. A destination without sampled neighbours aggregates to 0.
/// </summary>
public sealed class SagePoolLayer : Module<Tensor, MessageFlow, Tensor>
{
    private readonly Linear pool;
    private readonly Linear self;
    private readonly Linear neighbours;

    public SagePoolLayer(int inputs, int outputs) : base(nameof(SagePoolLayer))
    {
        pool = Linear(inputs, inputs);
        self = Linear(inputs, outputs);
        neighbours = Linear(inputs, outputs, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor sources, MessageFlow flow)
    {
        var destinations = sources.narrow(0, 0, flow.DestinationCount);
        var messages = functional.relu(pool.call(sources.index_select(0, flow.EdgeSources)));
        // Messages are at least 0 after the ReLU, so padding with 0 leaves the max over the neighbours, and gives 0 without any.
        var maxima = flow.ByDestination(messages, padding: Scalars.Zero).amax([1]);
        return self.call(destinations).add(neighbours.call(maxima), Scalars.One);
    }
}
