using Dtrain.Contracts.Jobs;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Sampling;
using Dtrain.Models.Graph;
using Dtrain.Optimizers;
using Dtrain.Tests.Graph;
using Dtrain.Tests.Graph.Sampling;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Tests.Models;

/// <summary>
/// Each graph layer on blocks sampled across two partitions (each behind a real gRPC sampling service), against a
/// dense statement of the same network: per block a [destinations, sources] matrix of edge counts, and per layer
/// matrix products, a masked max or a masked softmax over it, with the model's own parameters. Outputs and every
/// parameter's gradient must agree. Both run in float64, so the tolerance (1e-10 relative) only covers the
/// different summation order of a sparse and a dense computation.
/// </summary>
public class GraphNetworkOracleTests
{
    private const int Hidden = 8, Classes = 3;

    [Theory]
    [InlineData(GnnKind.SageMean)]
    [InlineData(GnnKind.SagePool)]
    [InlineData(GnnKind.Gat)]
    public async Task Forward_and_gradients_on_distributed_blocks_equal_a_dense_computation(GnnKind kind)
    {
        // A sparse graph, so that blocks hold destinations without sampled neighbours as well as ones with several.
        var partitioned = GraphPartitioner.Partition(TestGraphs.Sparse(60, featureDim: 5, seed: 3), PartitionMethod.Random, 2, seed: 11);
        await using var cluster = await SamplingCluster.StartAsync(partitioned);
        var sampler = cluster.SamplerOf(0, new SamplingOptions([3, 4]));
        // Seeds of both partitions, two of them without in-edges.
        var graph = partitioned.Relabelled;
        var isolated = Enumerable.Range(0, graph.NodeCount).Where(v => graph.InNeighbours(v).Length == 0).Take(2);
        var seeds = isolated.Concat(MiniBatchSamplerTests.Seeds(graph.NodeCount, 30, seed: 5).Where(v => graph.InNeighbours(v).Length > 0).Take(14)).ToArray();
        using var batch = await sampler.SampleAsync(seeds, 77, default);
        Assert.All(batch.Blocks, block =>
        {
            var degrees = Enumerable.Range(0, block.DestinationCount).Select(d => block.EdgeDestinations.Count(e => e == d)).ToArray();
            Assert.Contains(0, degrees);
            Assert.Contains(degrees, degree => degree >= 2);
        });
        using var scope = NewDisposeScope();
        using var s = new HeldScalars();
        var inputs = tensor(batch.InputFeatures.ToArray(), [batch.InputNodes.Length, batch.FeatureDim]).to(float64);
        var flows = batch.Blocks.Select(block => new MessageFlow(block.DestinationCount,
            tensor(block.EdgeSources).to(int64), tensor(block.EdgeDestinations).to(int64), float64)).ToArray();
        torch.manual_seed(5);
        using var model = new GraphNetwork(kind, batch.FeatureDim, Hidden, Classes, layerCount: 2);
        model.to(float64);
        // A random, non-symmetric weighting of the outputs, so every output element gets its own gradient.
        var weighting = randn(batch.Seeds.Length, Classes, dtype: float64, generator: new Generator(9));

        var output = model.forward(inputs, flows);
        output.mul(weighting).sum().backward();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone().requires_grad_());
        var dense = Dense(kind, parameters, inputs, batch.Blocks, s);
        dense.mul(weighting).sum().backward();

        AssertClose(dense, output, "the output");
        foreach (var (name, parameter) in model.named_parameters())
        {
            AssertClose(parameters[name].grad!, parameter.grad!, $"the gradient of {name}");
        }
        foreach (var flow in flows) flow.Dispose();
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        double scale = expected.abs().max().item<double>(), difference = actual.sub(expected).abs().max().item<double>();
        Assert.True(scale > 0, $"{what} is all zero: the comparison would prove nothing");
        Assert.True(difference <= 1e-10 * scale, $"{what} differs by {difference} (largest element {scale})");
    }

    /// <summary>The network, layer by layer, on dense count matrices: C[d, s] edges from source s to destination d.</summary>
    private static Tensor Dense(GnnKind kind, Dictionary<string, Tensor> p, Tensor inputs, IReadOnlyList<SampledBlock> blocks, HeldScalars s)
    {
        var h = inputs;
        for (int layer = 0; layer < blocks.Count; layer++)
        {
            var block = blocks[layer];
            var counts = new double[block.DestinationCount * block.SourceNodes.Length];
            for (int e = 0; e < block.EdgeCount; e++) counts[block.EdgeDestinations[e] * block.SourceNodes.Length + block.EdgeSources[e]]++;
            var c = tensor(counts, [block.DestinationCount, block.SourceNodes.Length], dtype: float64);
            var own = h.narrow(0, 0, block.DestinationCount);
            Tensor Weight(string name) => p[$"layers.{layer}.{name}"];
            bool last = layer == blocks.Count - 1;
            h = kind switch
            {
                GnnKind.SageMean => own.matmul(Weight("self.weight").t()).add(Weight("self.bias"), s.One)
                    .add(c.div(c.sum(1, keepdim: true).clamp_min(s.One)).matmul(h).matmul(Weight("neighbours.weight").t()), s.One),
                GnnKind.SagePool => own.matmul(Weight("self.weight").t()).add(Weight("self.bias"), s.One)
                    .add(MaskedMax(c, nn.functional.relu(h.matmul(Weight("pool.weight").t()).add(Weight("pool.bias"), s.One)), s).matmul(Weight("neighbours.weight").t()), s.One),
                _ => Attention(c, h, Weight("project.weight"), Weight("sourceAttention"), Weight("destinationAttention"), Weight("bias"), last, s),
            };
            if (!last) h = nn.functional.relu(h);
        }
        return h;
    }

    /// <summary>Row d: the element-wise max of the messages of d's sources, 0 without any (messages are at least 0).</summary>
    private static Tensor MaskedMax(Tensor counts, Tensor messages, HeldScalars s) =>
        counts.gt(s.Of(0.0)).to(float64).unsqueeze(2).mul(messages.unsqueeze(0)).amax([1]);

    /// <summary>Multi-head attention of each destination over its sources and itself, each edge counted as often as it occurs.</summary>
    private static Tensor Attention(Tensor counts, Tensor h, Tensor project, Tensor sourceVector, Tensor destinationVector, Tensor bias, bool averageHeads, HeldScalars s)
    {
        long destinations = counts.shape[0], heads = sourceVector.shape[0], width = sourceVector.shape[1];
        var withSelf = counts.add(eye(destinations, counts.shape[1], dtype: float64), s.One);
        var z = h.matmul(project.t()).view(-1, heads, width);                              // [sources, heads, width]
        var fromSource = z.mul(sourceVector).sum(-1);                                      // [sources, heads]
        var toDestination = z.narrow(0, 0, destinations).mul(destinationVector).sum(-1);  // [destinations, heads]
        var scores = toDestination.unsqueeze(1).add(fromSource.unsqueeze(0), s.One);
        var logits = where(scores.gt(s.Of(0.0)), scores, scores.mul(s.Of(0.2)));           // LeakyReLU: [destinations, sources, heads]
        var weights = logits.exp().mul(withSelf.unsqueeze(2));
        var attention = weights.div(weights.sum(1, keepdim: true));
        var mixed = torch.einsum("dsk,skw->dkw", attention, z);                            // [destinations, heads, width]
        return (averageHeads ? mixed.mean([1]) : mixed.reshape(destinations, heads * width)).add(bias, s.One);
    }
}
