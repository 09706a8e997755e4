using Dtrain.Contracts.Jobs;
using Dtrain.Contracts;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Shampoo;
using Dtrain.Optimizers.Shampoo.Preconditioner;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Tests.Optimizers;

/// <summary>The reference's own oracles for Shampoo (../shared/reference/shampoo.md, section 7).</summary>
public class ShampooTests
{
    private const int Steps = 6;

    /// <summary>
    /// A small regression problem with two matrices, a vector and a 3-D parameter; seeded, non-symmetric data,
    /// drawn on the CPU and trained on <paramref name="device"/> (the CPU by default). At max_preconditioner_dim 4
    /// the blocks come in equal shapes, within a parameter and across w and v, so that they are stacked; the 3-D
    /// parameter's blocks are preconditioned along a middle dim too.
    /// </summary>
    private static float[] Train(Func<IReadOnlyList<(string, Parameter)>, Action> optimizer, int seed = 7, Device? device = null)
    {
        var generator = new Generator((ulong)seed);
        var on = device ?? CPU;
        var w = new Parameter(randn([6, 9], generator: generator).to(on));
        var b = new Parameter(randn([9], generator: generator).to(on));
        var c = new Parameter(randn([2, 3, 9], generator: generator).to(on));
        var v = new Parameter(randn([9, 4], generator: generator).to(on));
        var x = randn([16, 6], generator: generator).to(on);
        var y = randn([16, 4], generator: generator).to(on);
        var parameters = new[] { w, b, c, v };
        var step = optimizer([("w", w), ("b", b), ("c", c), ("v", v)]);
        using var s = new HeldScalars();
        for (int i = 0; i < Steps; i++)
        {
            foreach (var p in parameters) p.grad?.zero_();
            var prediction = (x.matmul(w).add(b, s.Of(1)).tanh() * c.sum(new long[] { 0, 1 })).matmul(v);
            (prediction - y).pow(s.Of(2)).mean().backward();
            step();
        }
        Assert.All(parameters, p => Assert.Equal(on.type, p.device_type));
        return cat(parameters.Select(p => p.flatten()).ToArray()).detach().cpu().data<float>().ToArray();
    }

    private static Func<IReadOnlyList<(string, Parameter)>, Action> Shampoo(ShampooOptions options) => parameters =>
    {
        var shampoo = new ShampooOptimizer(parameters, options with { StartPreconditioningStep = long.MaxValue, MaxPreconditionerDim = 4 });
        return shampoo.Step;
    };

    private static Func<IReadOnlyList<(string, Parameter)>, Action> Torch(Func<IEnumerable<Parameter>, optim.Optimizer> create) => parameters =>
    {
        var optimizer = create(parameters.Select(p => p.Item2));
        return () => TorchOracle.Step(optimizer);
    };

    private static void AssertClose(float[] expected, float[] actual, double tolerance = 1e-5)
    {
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a) / Math.Max(1e-3, Math.Abs(e))).Max();
        Assert.True(worst < tolerance, $"relative difference up to {worst}");
        Assert.NotEqual(Train(_ => () => { }), actual);   // the comparison is not between two untrained models
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    public void Grafting_sgd_without_preconditioning_is_sgd(double weightDecay) => AssertClose(
        Train(Torch(p => optim.SGD(p, 0.05, weight_decay: weightDecay))),
        Train(Shampoo(new() { LearningRate = 0.05, Beta1 = 0, Grafting = GraftingType.Sgd, WeightDecay = weightDecay, WeightDecayType = WeightDecayType.L2 })));

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    public void Grafting_adagrad_without_preconditioning_is_adagrad(double weightDecay) => AssertClose(
        Train(Torch(p => optim.Adagrad(p, 0.05, weight_decay: weightDecay, eps: 1e-10))),
        Train(Shampoo(new() { LearningRate = 0.05, Beta1 = 0, Grafting = GraftingType.Adagrad, GraftingEpsilon = 1e-10, WeightDecay = weightDecay, WeightDecayType = WeightDecayType.L2 })));

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    public void Grafting_adam_without_preconditioning_is_adam(double weightDecay) => AssertClose(
        Train(Torch(p => optim.Adam(p, 0.01, 0.9, 0.999, 1e-8, weight_decay: weightDecay))),
        Train(Shampoo(new() { LearningRate = 0.01, Beta1 = 0.9, Grafting = GraftingType.Adam, GraftingBeta2 = 0.999, GraftingEpsilon = 1e-8, WeightDecay = weightDecay, WeightDecayType = WeightDecayType.L2 })));

    [Fact]
    public void Grafting_adam_with_decoupled_weight_decay_is_adamw() => AssertClose(
        Train(Torch(p => optim.AdamW(p, 0.01, 0.9, 0.999, 1e-8, weight_decay: 0.3))),
        Train(Shampoo(new() { LearningRate = 0.01, Beta1 = 0.9, Grafting = GraftingType.Adam, GraftingBeta2 = 0.999, GraftingEpsilon = 1e-8, WeightDecay = 0.3, WeightDecayType = WeightDecayType.Decoupled })));

    [Fact]
    public void Corrected_weight_decay_scales_by_lr_over_peak_lr() => AssertClose(
        Train(Torch(p => optim.AdamW(p, 0.01, 0.9, 0.999, 1e-8, weight_decay: 0.3 * 0.01 / 0.02))),
        Train(Shampoo(new() { LearningRate = 0.01, PeakLearningRate = 0.02, Beta1 = 0.9, Grafting = GraftingType.Adam, GraftingBeta2 = 0.999, GraftingEpsilon = 1e-8, WeightDecay = 0.3, WeightDecayType = WeightDecayType.Corrected })));

    [Fact]
    public void Independent_weight_decay_divides_by_the_peak_lr() => AssertClose(
        Train(Torch(p => optim.AdamW(p, 0.01, 0.9, 0.999, 1e-8, weight_decay: 0.006 / 0.02))),
        Train(Shampoo(new() { LearningRate = 0.01, PeakLearningRate = 0.02, Beta1 = 0.9, Grafting = GraftingType.Adam, GraftingBeta2 = 0.999, GraftingEpsilon = 1e-8, WeightDecay = 0.006, WeightDecayType = WeightDecayType.Independent })));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Momentum_and_nesterov_match_sgd_with_momentum(bool nesterov) => AssertClose(
        Train(Torch(p => optim.SGD(p, 0.05, momentum: 0.9, nesterov: nesterov))),
        Train(Shampoo(new() { LearningRate = 0.05, Beta1 = 0, Grafting = GraftingType.Sgd, Momentum = 0.9, Nesterov = nesterov })));

    [Fact]
    public void Grafting_rmsprop_without_preconditioning_is_rmsprop() => AssertClose(
        Train(Torch(p => optim.RMSProp(p, 0.01, alpha: 0.99, eps: 1e-10))),
        Train(Shampoo(new() { LearningRate = 0.01, Beta1 = 0, Grafting = GraftingType.Rmsprop, GraftingBeta2 = 0.99, GraftingEpsilon = 1e-10 })));

    [Fact]
    public void Preconditioned_steps_differ_from_grafting_alone_and_stay_finite()
    {
        var options = new ShampooOptions { LearningRate = 0.05, Grafting = GraftingType.Adam, GraftingEpsilon = 1e-8, MaxPreconditionerDim = 4, Epsilon = 1e-6 };
        var preconditioned = Train(p => new ShampooOptimizer(p, options).Step);
        var graftedOnly = Train(p => new ShampooOptimizer(p, options with { StartPreconditioningStep = long.MaxValue }).Step);
        Assert.NotEqual(graftedOnly, preconditioned);
        Assert.All(preconditioned, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void One_preconditioned_step_is_minus_lr_times_L_to_the_minus_quarter_G_R_to_the_minus_quarter()
    {
        var g = randn([4, 3], dtype: ScalarType.Float64, generator: new Generator(11));
        var w0 = randn([4, 3], dtype: ScalarType.Float64, generator: new Generator(12));
        var w = new Parameter(w0.clone());
        using var shampoo = new ShampooOptimizer([("w", w)], new ShampooOptions { LearningRate = 0.1, Beta1 = 0, Epsilon = 1e-9, MaxPreconditionerDim = 4, FactorMatrixDtype = Precision.Fp64 });
        w.grad = g.clone();
        shampoo.Step();

        using var lr = 0.1.ToScalar();
        var expected = w0 - lr * InverseRoot(g.matmul(g.T), 0.25).matmul(g).matmul(InverseRoot(g.T.matmul(g), 0.25));
        Assert.True(w.allclose(expected, rtol: 1e-6, atol: 1e-6), $"differs by {(w - expected).abs().max().item<double>()}");
    }

    /// <summary>A^(-exponent) by float64 eigh of A + 1e-9 I, independent of the optimizer's code.</summary>
    private static Tensor InverseRoot(Tensor a, double exponent)
    {
        using var s = new HeldScalars();
        var (values, vectors) = linalg.eigh(a.add(s.Of(1e-9) * eye(a.shape[0], dtype: ScalarType.Float64), s.Of(1)));
        return (vectors * values.pow(s.Of(-exponent)).unsqueeze(0)).matmul(vectors.T);
    }

    [Fact]
    public void An_inverse_exponent_override_of_zero_leaves_that_dim_unpreconditioned()
    {
        var g = randn([4, 3], dtype: ScalarType.Float64, generator: new Generator(13));
        var w0 = randn([4, 3], dtype: ScalarType.Float64, generator: new Generator(14));
        var w = new Parameter(w0.clone());
        var options = new ShampooOptions
        {
            LearningRate = 0.1, Beta1 = 0, Epsilon = 1e-9, MaxPreconditionerDim = 4, FactorMatrixDtype = Precision.Fp64,
            InverseExponentOverride = new Dictionary<int, double[]> { [2] = [0.5, 0] },
        };
        using var shampoo = new ShampooOptimizer([("w", w)], options);
        w.grad = g.clone();
        shampoo.Step();

        // Left factor only, to the power -1/2: full-matrix AdaGrad along the rows.
        using var lr = 0.1.ToScalar();
        var expected = w0 - lr * InverseRoot(g.matmul(g.T), 0.5).matmul(g);
        Assert.True(w.allclose(expected, rtol: 1e-6, atol: 1e-6), $"differs by {(w - expected).abs().max().item<double>()}");
    }

    [Fact]
    public void Float64_factors_follow_a_float64_oracle_more_closely_than_float32_factors()
    {
        var g = randn([8, 6], dtype: ScalarType.Float64, generator: new Generator(15));
        using var minusLr = (-0.1).ToScalar();
        var expected = minusLr * InverseRoot(g.matmul(g.T), 0.25).matmul(g).matmul(InverseRoot(g.T.matmul(g), 0.25));
        double Error(Precision factors)
        {
            var w = new Parameter(zeros([8, 6], dtype: ScalarType.Float64));
            using var shampoo = new ShampooOptimizer([("w", w)], new ShampooOptions { LearningRate = 0.1, Beta1 = 0, Epsilon = 1e-9, MaxPreconditionerDim = 8, FactorMatrixDtype = factors });
            w.grad = g.clone();
            shampoo.Step();
            return (w - expected).abs().max().item<double>();
        }
        double float64 = Error(Precision.Fp64), float32 = Error(Precision.Fp32);
        Assert.True(float64 < float32 / 10, $"float64 factors differ by {float64}, float32 factors by {float32}");
    }

    public static TheoryData<int> Ranks() => new(2, 3, 5);

    /// <summary>
    /// Each rank holds its own copy of the model and sees the same gradients, as after data-parallel averaging;
    /// preconditioning starts at step 2 and is refreshed every 2 steps. With 5 ranks some own no block at all.
    /// </summary>
    [Theory]
    [MemberData(nameof(Ranks))]
    public async Task Distributed_over_a_group_equals_single_process_bitwise(int ranks)
    {
        var options = new ShampooOptions { LearningRate = 0.05, Grafting = GraftingType.Adam, GraftingEpsilon = 1e-8, MaxPreconditionerDim = 4, Epsilon = 1e-6, PreconditionFrequency = 2 };
        var single = Train(p => new ShampooOptimizer(p, options).Step);

        var group = Dtrain.Collectives.Transports.InProcess.InProcessGroup.Create(ranks);
        var distributed = await Task.WhenAll(group.Select(comm => Task.Run(() => Train(p =>
        {
            var shampoo = new ShampooOptimizer(p, options, comm);
            return () => shampoo.StepAsync().GetAwaiter().GetResult();
        }))));

        Assert.All(distributed, result => Assert.Equal(single, result));
    }

    /// <summary>
    /// The same 2-rank group on CUDA: the factors, their eigendecompositions and the directions stay on the GPU (the
    /// parameters never leave it), and the result follows the CPU oracle within the difference of two eigensolvers.
    /// </summary>
    [CudaFact]
    public async Task Distributed_on_cuda_follows_the_cpu_oracle()
    {
        var options = new ShampooOptions { LearningRate = 0.05, Grafting = GraftingType.Adam, GraftingEpsilon = 1e-8, MaxPreconditionerDim = 4, Epsilon = 1e-6, PreconditionFrequency = 2 };
        var oracle = Train(p => new ShampooOptimizer(p, options).Step);

        var group = Dtrain.Collectives.Transports.InProcess.InProcessGroup.Create(2);
        var distributed = await Task.WhenAll(group.Select(comm => Task.Run(() => Train(p =>
        {
            var shampoo = new ShampooOptimizer(p, options, comm);
            return () => shampoo.StepAsync().GetAwaiter().GetResult();
        }, device: CUDA))));

        Assert.Equal(distributed[0], distributed[1]);
        AssertClose(oracle, distributed[0], tolerance: 1e-3);
    }

    /// <summary>
    /// bf16 directions: the communication dtype applies only where directions cross ranks, so every rank applies the
    /// same rounded directions (its own included) and the result stays near the unrounded single process.
    /// </summary>
    [Fact]
    public async Task Bf16_communication_moves_fewer_bytes_and_keeps_the_ranks_equal()
    {
        var options = new ShampooOptions { LearningRate = 0.05, Grafting = GraftingType.Adam, GraftingEpsilon = 1e-8, MaxPreconditionerDim = 4, Epsilon = 1e-6, PreconditionFrequency = 2 };
        var bf16 = options with { CommunicationDtype = Precision.Bf16 };
        var single = Train(p => new ShampooOptimizer(p, options).Step);
        Assert.Equal(single, Train(p => new ShampooOptimizer(p, bf16).Step));   // one process rounds nothing
        var bytes = new long[2];
        var group = Dtrain.Collectives.Transports.InProcess.InProcessGroup.Create(2);
        var distributed = await Task.WhenAll(group.Select(comm => Task.Run(() => Train(p =>
        {
            var shampoo = new ShampooOptimizer(p, bf16, comm);
            using var fp32 = new ShampooOptimizer(p, options, comm);   // only to compare the sizes
            bytes = [fp32.AllGatherBytesPerStep, shampoo.AllGatherBytesPerStep];
            return () => shampoo.StepAsync().GetAwaiter().GetResult();
        }))));

        Assert.Equal(distributed[0], distributed[1]);
        Assert.NotEqual(single, distributed[0]);
        // bf16 keeps 8 bits of mantissa: each step's direction is off by up to 2^-8 of itself, so the parameters
        // end within a few percent of their change, not bitwise.
        var untrained = Train(_ => () => { });
        double change = single.Zip(untrained, (a, b) => Math.Abs(a - b)).Max();
        double difference = single.Zip(distributed[0], (a, b) => Math.Abs(a - b)).Max();
        Assert.True(difference < 0.03 * change, $"bf16 directions moved the result by {difference}, {difference / change:P1} of the change {change}");
        // Not exactly half: block costs are rounded up to 64 bytes, so the assignment and padding change too.
        Assert.True(bytes[1] < bytes[0], $"bf16 moves {bytes[1]} bytes a step, fp32 {bytes[0]}");
    }

    /// <summary>4 ranks in 2 groups of 2 (the reference's num_trainers_per_group): the same result as one process.</summary>
    [Fact]
    public async Task Groups_of_trainers_equal_single_process_bitwise()
    {
        var options = new ShampooOptions { LearningRate = 0.05, Grafting = GraftingType.Adam, GraftingEpsilon = 1e-8, MaxPreconditionerDim = 4, Epsilon = 1e-6, PreconditionFrequency = 2, NumTrainersPerGroup = 2 };
        var single = Train(p => new ShampooOptimizer(p, options).Step);
        var world = Dtrain.Collectives.Transports.InProcess.InProcessGroup.Create(4);
        var distributed = await Task.WhenAll(world.Select(comm => Task.Run(() => Train(p =>
        {
            var shampoo = ShampooOptimizer.CreateAsync(p, options, comm).GetAwaiter().GetResult();
            return () => shampoo.StepAsync().GetAwaiter().GetResult();
        }))));
        Assert.All(distributed, result => Assert.Equal(single, result));

        var odd = Dtrain.Collectives.Transports.InProcess.InProcessGroup.Create(3);
        var error = await Assert.ThrowsAsync<DtrainException>(() => ShampooOptimizer.CreateAsync([], options, odd[0]));
        Assert.Equal("num_trainers_per_group 2 does not divide the world size 3", error.Message);
    }

    [Fact]
    public void A_nan_gradient_names_the_parameter()
    {
        var w = new Parameter(ones(3, 3));
        using var shampoo = new ShampooOptimizer([("layer1.weight", w)], new ShampooOptions());
        using var nan = float.NaN.ToScalar();
        w.grad = full(3, 3, nan);
        var error = Assert.Throws<DtrainException>(shampoo.Step);
        Assert.Equal("the gradient of layer1.weight contains NaN or Inf at step 1", error.Message);
    }

    /// <summary>
    /// Rank-1 gradients u vᵀ with fixed u and v keep both factors singular, and the coupled Newton iteration
    /// never converges on a singular matrix: three failed computations are tolerated (the identity roots stay),
    /// the fourth in a row is an error.
    /// </summary>
    [Fact]
    public void Three_failed_root_computations_in_a_row_are_tolerated_and_the_fourth_is_an_error()
    {
        var u = randn([3, 1], generator: new Generator(16));
        var v = randn([1, 4], generator: new Generator(17));
        var w = new Parameter(zeros(3, 4));
        using var shampoo = new ShampooOptimizer([("layer.weight", w)], new ShampooOptions { Beta1 = 0, RootMethod = RootMethod.CoupledNewton });
        using var s = new HeldScalars();
        for (int step = 1; step <= 3; step++)
        {
            w.grad = u.matmul(v) * s.Of(step);
            shampoo.Step();
        }
        // With identity roots and no grafting, every step so far was plain SGD: w = -lr (1 + 2 + 3) u vᵀ.
        Assert.True(w.allclose(s.Of(-0.01 * 6) * u.matmul(v), rtol: 1e-5, atol: 1e-7));
        w.grad = u.matmul(v);
        var error = Assert.Throws<MatrixRootException>(shampoo.Step);
        Assert.Equal("layer.weight block 0: the inverse roots failed 4 times in a row at step 4", error.Message);
    }

    [Fact]
    public void A_nan_in_a_factor_names_the_block_and_step()
    {
        var w = new Parameter(zeros(2, 2));
        using var shampoo = new ShampooOptimizer([("w", w)], new ShampooOptions { Beta1 = 0 });
        using var huge = 3e38f.ToScalar();
        w.grad = full(2, 2, huge);   // finite, but its square overflows the factor
        var error = Assert.Throws<MatrixRootException>(shampoo.Step);
        Assert.Equal("w block 0: factor 0 contains NaN or Inf at step 1", error.Message);
    }

    [Fact]
    public void Bad_options_are_refused_by_name()
    {
        var error = Assert.Throws<ArgumentException>(() => new ShampooOptimizer([], new ShampooOptions { Beta2 = 0, PreconditionFrequency = 0 }));
        Assert.Equal("invalid Shampoo options: beta2 must be in (0, 1], got 0; precondition_frequency must be at least 1, got 0; start_preconditioning_step must be at least 1, got 0", error.Message);
        var exponents = Assert.Throws<ArgumentException>(() => new ShampooOptimizer([], new ShampooOptions
        {
            RootMethod = RootMethod.CoupledNewton,
            InverseExponentOverride = new Dictionary<int, double[]> { [2] = [0.25, 0.5, 1], [1] = [0.3] },
        }));
        Assert.Equal("invalid Shampoo options: inverse_exponent_override[2] needs 1 or 2 exponents, got 3; inverse_exponent_override[1]: coupled_newton needs exponents 1/p for whole p, got [0.3]", exponents.Message);
    }
}
