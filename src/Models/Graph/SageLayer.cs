using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dtrain.Models.Graph;

/// <summary>
/// A GraphSAGE layer with the mean aggregator (Hamilton et al. 2017, as DGL's SAGEConv 'mean' computes it):
/// h'_v = W_self h_v + W_neigh mean_{u in N(v)} h_u + b, over one sampled block.
/// </summary>
public sealed class SageLayer : Module<Tensor, MessageFlow, Tensor>
{
    private readonly Linear self;
    private readonly Linear neighbours;

    public SageLayer(int inputs, int outputs) : base(nameof(SageLayer))
    {
        self = Linear(inputs, outputs);
        neighbours = Linear(inputs, outputs, hasBias: false);
        RegisterComponents();
    }

    /// <param name="sources">Rows of the block's source nodes, destinations first.</param>
    /// <param name="flow">The block.</param>
    public override Tensor forward(Tensor sources, MessageFlow flow)
    {
        var destinations = sources.narrow(0, 0, flow.DestinationCount);
        var sums = zeros(flow.DestinationCount, sources.shape[1], dtype: sources.dtype, device: sources.device)
            .index_add(0, flow.EdgeDestinations, sources.index_select(0, flow.EdgeSources), Scalars.One);
        return self.call(destinations).add(neighbours.call(sums.mul(flow.InverseDegrees)), Scalars.One);
    }
}
