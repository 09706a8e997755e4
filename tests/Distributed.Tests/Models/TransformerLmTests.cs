using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Contracts.Jobs;
using Dtrain.Models.Data;
using Dtrain.Models.Transformer;
using Dtrain.Optimizers;
using Dtrain.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Tests.Models;

/// <summary>The transformer LM that `dtrain bench overhead` trains, and the token task it learns.</summary>
public class TransformerLmTests
{
    /// <summary>
    /// Counted by hand, layer by layer, as bench/overhead.py's PyTorch model has them: embeddings V·d and T·d; per
    /// block two layer norms (2d each), qkv 3d² + 3d, projection d² + d, MLP 4d² + 4d and 4d² + d; the final norm
    /// 2d; the head d·V + V.
    /// </summary>
    [Theory]
    [InlineData(256, 64, 128, 2, 4)]
    [InlineData(50, 7, 12, 3, 3)]
    public void Has_the_parameters_of_gpt2s_shape_without_weight_tying(long vocabulary, long context, long width, long layers, int heads)
    {
        long expected = vocabulary * width + context * width + layers * (12 * width * width + 13 * width) + 2 * width + width * vocabulary + vocabulary;
        using var model = new TransformerLm((int)vocabulary, (int)context, (int)width, (int)layers, heads);
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void A_position_sees_no_later_token()
    {
        using var model = Seeded(() => new TransformerLm(vocabulary: 20, context: 8, width: 16, layers: 2, heads: 4));
        var tokens = new SyntheticTokens(seed: 3, vocabulary: 20).Batch([0, 1], 8, CPU).Inputs;
        var changed = tokens.clone();
        using var s = new HeldScalars();
        changed[TensorIndex.Colon, 5] = tokens[TensorIndex.Colon, 5].add(s.Of(1L), s.Of(1L)).remainder(s.Of(20L));
        using var _ = no_grad();
        var (before, after) = (model.forward(tokens), model.forward(changed));

        Assert.Equal([2, 8, 20], before.shape);
        Assert.True(before[TensorIndex.Colon, ..5].eq(after[TensorIndex.Colon, ..5]).all().item<bool>(), "positions before the change moved");
        Assert.False(before[TensorIndex.Colon, 5..].allclose(after[TensorIndex.Colon, 5..]), "positions from the change on did not move");
    }

    [Fact]
    public void Tokens_follow_the_chain_and_targets_are_the_inputs_shifted_by_one()
    {
        var task = new SyntheticTokens(seed: 5, vocabulary: 30, successors: 3);
        var (inputs, targets) = task.Batch([4, 9, 1000], 12, CPU);
        var (x, y) = (inputs.data<long>().ToArray(), targets.data<long>().ToArray());
        for (int row = 0; row < 3; row++)
        {
            for (int position = 0; position < 12; position++)
            {
                int i = row * 12 + position;
                Assert.Contains(y[i], Enumerable.Range(0, 3).Select(choice => task.Next(x[i], choice)));
                if (position > 0) Assert.Equal(y[i - 1], x[i]);
            }
        }
        // A pure function of (seed, index): the same sequence again, a different one under another seed.
        Assert.Equal(x[12..24], task.Batch([9], 12, CPU).Inputs.data<long>().ToArray());
        Assert.NotEqual(x, new SyntheticTokens(seed: 6, vocabulary: 30, successors: 3).Batch([4, 9, 1000], 12, CPU).Inputs.data<long>().ToArray());
    }

    /// <summary>Through dtrain's own step: the loss starts near ln V (32 tokens: 3.47) and falls towards ln 4 (1.39), the chain's entropy.</summary>
    [Fact]
    public async Task Learns_the_chain_through_the_data_parallel_step()
    {
        var task = new SyntheticTokens(seed: 1, vocabulary: 32);
        using var model = Seeded(() => new TransformerLm(vocabulary: 32, context: 16, width: 32, layers: 1, heads: 2));
        var comm = InProcessGroup.Create(1)[0];
        using var optimizer = await ReplicatedOptimizer.CreateAsync(model, comm, new JobSpec { Workers = 1, LearningRate = 0.01 }, CancellationToken.None);
        var losses = new List<double>();
        for (int step = 0; step < 150; step++)
        {
            var (inputs, targets) = task.Batch(Enumerable.Range(step * 16, 16).Select(i => (long)i).ToArray(), 16, CPU);
            losses.Add(await DataParallelStep.RunAsync(model, optimizer, inputs, targets, CancellationToken.None));
        }
        Assert.InRange(losses[0], 3.0, 4.0);
        Assert.True(losses[^10..].Average() < 1.7, $"loss ends at {losses[^10..].Average()}");
    }

    private static T Seeded<T>(Func<T> create) => TrainingSteps.CreateSeeded(1, create);
}
