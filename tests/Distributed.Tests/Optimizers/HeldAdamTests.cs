using Dtrain.Optimizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dtrain.Tests.Optimizers;

/// <summary>HeldAdam against TorchSharp's Adam, its oracle: the same bytes, step after step, and across a save and load.</summary>
public class HeldAdamTests
{
    private const double LearningRate = 0.01;

    /// <summary>A small MLP's parameters and data, seeded and non-symmetric; every copy computes the same gradients.</summary>
    private sealed class Problem
    {
        private readonly Tensor x, y;

        public Problem()
        {
            var generator = new Generator(17);
            Parameters = [new(randn([6, 8], generator: generator)), new(randn([8], generator: generator)), new(randn([8, 3], generator: generator))];
            x = randn([20, 6], generator: generator);
            y = randn([20, 3], generator: generator);
        }

        public Parameter[] Parameters { get; }

        public void Train(optim.Optimizer optimizer, int steps)
        {
            using var s = new HeldScalars();
            for (int i = 0; i < steps; i++)
            {
                foreach (var p in Parameters) p.grad?.zero_();
                (x.matmul(Parameters[0]).add(Parameters[1], s.One).tanh().matmul(Parameters[2]) - y).pow(s.Of(2.0)).mean().backward();
                TorchOracle.Step(optimizer);
            }
        }

        /// <summary>The parameters' bytes, then every parameter's Adam state as a checkpoint saves it.</summary>
        public byte[] Save(Adam adam)
        {
            using var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream))
            {
                foreach (var p in Parameters) p.detach().Save(writer);
                foreach (var state in adam.state_dict().State) state.SaveStateDict(writer);
            }
            return stream.ToArray();
        }

        public void Load(Adam adam, byte[] saved)
        {
            using var reader = new BinaryReader(new MemoryStream(saved));
            using (no_grad())
            {
                foreach (var p in Parameters)
                {
                    using var values = Tensor.Load(reader);
                    p.copy_(values);
                }
            }
            foreach (var state in adam.state_dict().State) state.LoadStateDict(reader);
        }
    }

    [Fact]
    public void With_decoupled_weight_decay_the_parameters_equal_torchsharps_adamw_bitwise()
    {
        var (expected, actual, coupled) = (new Problem(), new Problem(), new Problem());
        using var torchAdamW = optim.AdamW(expected.Parameters, LearningRate, weight_decay: 0.05);
        using var heldAdamW = new HeldAdam(actual.Parameters, LearningRate, weight_decay: 0.05, decoupled_weight_decay: true);
        using var heldAdam = new HeldAdam(coupled.Parameters, LearningRate, weight_decay: 0.05);

        expected.Train(torchAdamW, 20);
        actual.Train(heldAdamW, 20);
        coupled.Train(heldAdam, 20);

        for (int i = 0; i < expected.Parameters.Length; i++)
        {
            Assert.Equal(expected.Parameters[i].data<float>().ToArray(), actual.Parameters[i].data<float>().ToArray());
        }
        Assert.NotEqual(expected.Parameters[0].data<float>().ToArray(), coupled.Parameters[0].data<float>().ToArray());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    public void Parameters_and_state_equal_torchsharps_adam_bitwise(double weightDecay)
    {
        var (expected, actual, untrained) = (new Problem(), new Problem(), new Problem());
        using var torchAdam = optim.Adam(expected.Parameters, LearningRate, weight_decay: weightDecay);
        using var heldAdam = new HeldAdam(actual.Parameters, LearningRate, weight_decay: weightDecay);
        using var untouched = new HeldAdam(untrained.Parameters, LearningRate);

        for (int round = 0; round < 5; round++)
        {
            expected.Train(torchAdam, 5);
            actual.Train(heldAdam, 5);
            Assert.Equal(expected.Save(torchAdam), actual.Save(heldAdam));
        }
        Assert.NotEqual(untrained.Save(untouched), actual.Save(heldAdam));   // the comparison is between trained models
    }

    [Fact]
    public void Saved_state_loaded_into_a_fresh_optimizer_continues_bitwise()
    {
        var uninterrupted = new Problem();
        using var adam = new HeldAdam(uninterrupted.Parameters, LearningRate, weight_decay: 0.05);
        uninterrupted.Train(adam, 10);
        byte[] saved = uninterrupted.Save(adam);
        uninterrupted.Train(adam, 15);

        var resumed = new Problem();
        using var fresh = new HeldAdam(resumed.Parameters, LearningRate, weight_decay: 0.05);
        resumed.Load(fresh, saved);
        Assert.Equal(saved, resumed.Save(fresh));
        resumed.Train(fresh, 15);

        Assert.Equal(uninterrupted.Save(adam), resumed.Save(fresh));
    }

    [Fact]
    public void Amsgrad_and_maximize_are_refused()
    {
        var problem = new Problem();
        using var adam = new HeldAdam(problem.Parameters.Take(1), LearningRate);

        var amsgrad = Assert.Throws<NotSupportedException>(() => adam.add_param_group(new Adam.ParamGroup(problem.Parameters.Skip(1), amsgrad: true)));
        var maximize = Assert.Throws<NotSupportedException>(() => adam.add_param_group(new Adam.ParamGroup(problem.Parameters.Skip(1), maximize: true)));

        Assert.Equal("HeldAdam supports neither amsgrad nor maximize", amsgrad.Message);
        Assert.Equal(amsgrad.Message, maximize.Message);
    }
}
