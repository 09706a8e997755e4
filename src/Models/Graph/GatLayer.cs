using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Dtrain.Models.Graph;

/// <summary>
/// A graph attention layer (Veličković et al. 2018) over one sampled block. Per head k: z = W_k h; each destination
/// v attends to its sampled neighbours and to itself (a self-loop, so a node without sampled neighbours still sees
/// its own row) with weights softmax_u(LeakyReLU_0.2(a_src,k · z_u + a_dst,k · z_v)), and takes their weighted sum.
/// Heads are concatenated, or averaged in an output layer, as the paper does.
/// </summary>
public sealed class GatLayer : Module<Tensor, MessageFlow, Tensor>
{
    /// <summary>LeakyReLU's slope below 0, held (functional.leaky_relu would make a Scalar of it at every call).</summary>
    private static readonly Scalar NegativeSlope = 0.2.ToScalar();
    private readonly int heads, width;
    private readonly bool averageHeads;
    private readonly Linear project;
    private readonly Parameter sourceAttention, destinationAttention, bias;

    /// <param name="outputs">Each head's width.</param>
    /// <param name="averageHeads">Average the heads (an output layer) instead of concatenating them.</param>
    public GatLayer(int inputs, int outputs, int heads, bool averageHeads) : base(nameof(GatLayer))
    {
        (this.heads, width, this.averageHeads) = (heads, outputs, averageHeads);
        project = Linear(inputs, heads * outputs, hasBias: false);
        sourceAttention = new Parameter(init.xavier_uniform_(empty(heads, outputs)));
        destinationAttention = new Parameter(init.xavier_uniform_(empty(heads, outputs)));
        bias = new Parameter(zeros(averageHeads ? outputs : heads * outputs));
        RegisterComponents();
    }

    public override Tensor forward(Tensor sources, MessageFlow flow)
    {
        long count = flow.DestinationCount;
        var z = project.call(sources).view(-1, heads, width);                                  // [sources, heads, width]
        var sourceScores = z.mul(sourceAttention).sum(-1);                                     // [sources, heads]
        var destinationScores = z.narrow(0, 0, count).mul(destinationAttention).sum(-1);      // [destinations, heads]
        using var destinations = count.ToScalar();
        var loops = arange(Scalars.WholeZero, destinations, Scalars.WholeOne, dtype: int64, device: sources.device);
        var edgeSources = cat([flow.EdgeSources, loops]);
        var edgeDestinations = cat([flow.EdgeDestinations, loops]);
        var scores = sourceScores.index_select(0, edgeSources).add(destinationScores.index_select(0, edgeDestinations), Scalars.One);
        var logits = scores.maximum(scores.mul(NegativeSlope));  // LeakyReLU, as the slope is below 1
        // The softmax over each destination's edges, shifted by its largest logit (which cancels) so exp cannot
        // overflow: the largest over the sampled edges (laid out by destination) and the self-loop, the last rows.
        Tensor largest;
        using (no_grad())
        {
            var overNeighbours = flow.ByDestination(logits.narrow(0, 0, flow.EdgeSources.shape[0]), Scalars.NegativeInfinity).amax([1]);
            largest = overNeighbours.maximum(logits.narrow(0, flow.EdgeSources.shape[0], count));
        }
        var weights = logits.sub(largest.index_select(0, edgeDestinations)).exp();
        var totals = zeros(count, heads, dtype: weights.dtype, device: weights.device).index_add(0, edgeDestinations, weights, Scalars.One);
        var attention = weights.div(totals.index_select(0, edgeDestinations));                 // [edges, heads]
        var messages = z.index_select(0, edgeSources).mul(attention.unsqueeze(-1));
        var summed = zeros(count, heads, width, dtype: messages.dtype, device: messages.device).index_add(0, edgeDestinations, messages, Scalars.One);
        return (averageHeads ? summed.mean([1]) : summed.reshape(count, heads * width)).add(bias, Scalars.One);
    }
}
