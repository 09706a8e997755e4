using Dtrain.Optimizers.Flat;
using Dtrain.Optimizers.Schedules;
using static TorchSharp.torch;

namespace Dtrain.Tests.Optimizers;

/// <summary>FlatSgd against torch.optim.SGD, its oracle, both under the same warm-up and cosine schedule.</summary>
public class FlatSgdTests
{
    private static readonly LearningRateSchedule Schedule = new WarmupCosineSchedule(0.05, warmupSteps: 2, decaySteps: 4, floor: 0.005);

    [Theory]
    [InlineData(0.0, 0.0, 0.0, false)]
    [InlineData(0.9, 0.1, 0.01, false)]
    [InlineData(0.9, 0.0, 0.01, true)]
    public void Parameters_and_momentum_equal_torchsharps_sgd_bitwise(double momentum, double dampening, double weightDecay, bool nesterov)
    {
        using var expected = new FlatProblem();
        using var actual = new FlatProblem();
        using var untrained = new FlatProblem();
        using var torchSgd = optim.SGD(expected.Parameters, Schedule.At(0), momentum, dampening, weightDecay, nesterov);
        using var flat = new FlatParameters(actual.Parameters);
        using var sgd = new FlatSgd(flat, new SgdOptions { Momentum = momentum, Dampening = dampening, WeightDecay = weightDecay, Nesterov = nesterov });

        for (int step = 0; step < 6; step++)
        {
            foreach (var group in torchSgd.ParamGroups) group.LearningRate = Schedule.At(step);
            Schedule.Apply(sgd, step);
            expected.ZeroGrad();
            expected.Backward(step);
            TorchOracle.Step(torchSgd);
            flat.ZeroGrad();
            actual.Backward(step);
            sgd.Step();

            Bitwise.Equal(expected.Values(), actual.Values(), "parameter");
            if (momentum != 0)
            {
                var torchMomentum = torchSgd.state_dict().State.Cast<TorchSharp.Modules.SGD.State>().Select(s => s.momentum_buffer).ToArray();
                Bitwise.Equal(torchMomentum, flat.Slots.Select(s => sgd.MomentumOf(s)!).ToArray(), "momentum buffer");
            }
        }
        Assert.False(Bitwise.Same(untrained.Parameters[0], actual.Parameters[0]));
    }

    [Fact]
    public void Nesterov_without_momentum_is_refused()
    {
        using var problem = new FlatProblem();
        using var flat = new FlatParameters(problem.Parameters);

        var error = Assert.Throws<ArgumentException>(() => new FlatSgd(flat, new SgdOptions { Nesterov = true }));

        Assert.Equal("nesterov needs a positive momentum and zero dampening, got momentum 0, dampening 0", error.Message);
    }
}
