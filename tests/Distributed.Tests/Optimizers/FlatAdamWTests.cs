using Dtrain.Optimizers.Flat;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dtrain.Tests.Optimizers;

/// <summary>FlatAdamW against torch.optim.AdamW, its oracle: the same bits in every parameter and moment, step after step.</summary>
public class FlatAdamWTests
{
    private static readonly AdamWOptions Options = new() { LearningRate = 0.01, WeightDecay = 0.05 };

    private static AdamW TorchAdamW(FlatProblem problem) =>
        optim.AdamW(problem.Parameters, Options.LearningRate, Options.Beta1, Options.Beta2, Options.Epsilon, Options.WeightDecay);

    private static AdamWMoments[] MomentsOf(AdamW adamw) =>
        adamw.state_dict().State.Cast<AdamW.State>().Select(s => new AdamWMoments(s.exp_avg, s.exp_avg_sq)).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Parameters_and_moments_equal_torchsharps_adamw_bitwise(int shards)
    {
        using var expected = new FlatProblem();
        using var actual = new FlatProblem();
        using var untrained = new FlatProblem();
        using var torchAdamW = TorchAdamW(expected);
        using var flat = new FlatParameters(actual.Parameters, shards);
        using var adamw = new FlatAdamW(flat, Options);

        for (int step = 0; step < 5; step++)
        {
            expected.ZeroGrad();
            expected.Backward(step);
            TorchOracle.Step(torchAdamW);
            flat.ZeroGrad();
            actual.Backward(step);
            adamw.Step();

            Bitwise.Equal(expected.Values(), actual.Values(), "parameter");
            var (torchMoments, flatMoments) = (MomentsOf(torchAdamW), adamw.State.Parameters);
            Bitwise.Equal(torchMoments.Select(m => m.ExpAvg).ToArray(), flatMoments.Select(m => m.ExpAvg).ToArray(), "exp_avg");
            Bitwise.Equal(torchMoments.Select(m => m.ExpAvgSq).ToArray(), flatMoments.Select(m => m.ExpAvgSq).ToArray(), "exp_avg_sq");
        }
        Assert.Equal(5, adamw.Steps);
        Assert.False(Bitwise.Same(untrained.Parameters[0], actual.Parameters[0]));   // the comparison is between trained models
    }

    [Fact]
    public void Saved_state_loaded_into_a_fresh_optimizer_continues_bitwise()
    {
        using var uninterrupted = new FlatProblem();
        using var flat = new FlatParameters(uninterrupted.Parameters);
        using var adamw = new FlatAdamW(flat, Options);
        Train(flat, adamw, uninterrupted, 0, 3);
        using var stream = new MemoryStream();
        adamw.State.Save(new BinaryWriter(stream));
        var valuesAtSave = uninterrupted.Values();
        Train(flat, adamw, uninterrupted, 3, 6);

        using var resumed = new FlatProblem();
        using (no_grad())
        {
            for (int i = 0; i < valuesAtSave.Length; i++) resumed.Parameters[i].copy_(valuesAtSave[i]);
        }
        using var resumedFlat = new FlatParameters(resumed.Parameters);
        using var fresh = new FlatAdamW(resumedFlat, Options);
        stream.Position = 0;
        fresh.LoadState(AdamWState.Load(new BinaryReader(stream), resumedFlat));
        Assert.Equal(3, fresh.Steps);
        Train(resumedFlat, fresh, resumed, 3, 6);

        Bitwise.Equal(uninterrupted.Values(), resumed.Values(), "parameter");
        Bitwise.Equal(adamw.State.Parameters.Select(m => m.ExpAvgSq).ToArray(), fresh.State.Parameters.Select(m => m.ExpAvgSq).ToArray(), "exp_avg_sq");
    }

    [Fact]
    public void Bad_options_are_refused_naming_each()
    {
        using var problem = new FlatProblem();
        using var flat = new FlatParameters(problem.Parameters);

        var error = Assert.Throws<ArgumentException>(() => new FlatAdamW(flat, new AdamWOptions { Beta1 = 1, WeightDecay = -1 }));

        Assert.Equal("beta1 must be in [0, 1), got 1; weight_decay must not be negative, got -1", error.Message);
    }

    internal static void Train(FlatParameters flat, FlatAdamW adamw, FlatProblem problem, int from, int to)
    {
        for (int step = from; step < to; step++)
        {
            flat.ZeroGrad();
            problem.Backward(step);
            adamw.Step();
        }
    }
}
