using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Shampoo;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Tests.Optimizers;

/// <summary>
/// Float64 parameters with float64 factors get float64 updates: the optimizer, with its blocks stacked, follows
/// an independent float64 statement of the algorithm (written here block by block, after
/// ../shared/reference/shampoo.md, section 2) to 1e-10 of the total change of the parameters over 10 steps.
/// </summary>
public class ShampooFloat64OracleTests
{
    private const int Steps = 10;
    private const long MaxDim = 4;

    /// <summary>
    /// At max_preconditioner_dim 4: w [10, 7] has blocks [4,4] x2, [4,3] x2, [2,4], [2,3]; v [8, 4] two more [4,4];
    /// b [9] has [4] x2 and [1]; c [2,3,5] is 3-D, [2,3,4] and [2,3,1]; u [6] has a [4] that stacks with b's, and
    /// no gradient on odd steps, so its blocks skip those steps.
    /// </summary>
    private static readonly (string Name, long[] Shape)[] Shapes =
        [("w", [10, 7]), ("b", [9]), ("c", [2, 3, 5]), ("v", [8, 4]), ("u", [6])];

    private static ShampooOptions Options(GraftingType grafting) => new()
    {
        LearningRate = 0.1, Beta1 = 0.9, Beta2 = 0.99, Epsilon = 1e-6, WeightDecay = 0.01, WeightDecayType = WeightDecayType.Decoupled,
        MaxPreconditionerDim = MaxDim, PreconditionFrequency = 3, StartPreconditioningStep = 2,
        Grafting = grafting, GraftingBeta2 = 0.95, GraftingEpsilon = 1e-3, FactorMatrixDtype = Precision.Fp64,
    };

    public static TheoryData<GraftingType> Graftings() => new(Enum.GetValues<GraftingType>());

    [Theory]
    [MemberData(nameof(Graftings))]
    public void Float64_steps_follow_a_float64_oracle_to_1e_10(GraftingType grafting)
    {
        var options = Options(grafting);
        var generator = new Generator(31);
        var initial = Shapes.Select(s => randn(s.Shape, ScalarType.Float64, generator: generator)).ToArray();
        var gradients = Enumerable.Range(1, Steps)
            .Select(step => Shapes.Select((s, i) => s.Name == "u" && step % 2 == 1 ? null : randn(s.Shape, ScalarType.Float64, generator: generator)).ToArray())
            .ToArray();

        var parameters = Run(options, initial, gradients);
        var oracle = new Oracle(options, initial);
        foreach (var step in gradients) oracle.Step(step);

        var change = cat(oracle.Parameters.Zip(initial, (p, w0) => (p - w0).flatten()).ToArray()).abs().max().item<double>();
        var difference = cat(oracle.Parameters.Zip(parameters, (p, q) => (p - q).flatten()).ToArray()).abs().max().item<double>();
        Assert.True(change > 0.1, $"the parameters moved by {change} only");
        Assert.True(difference <= 1e-10 * change, $"differs from the oracle by {difference}, {difference / change:E2} of the change {change}");
    }

    /// <summary>
    /// 3 ranks with fp64 communication: each rank computes a share of the stacks, the others' blocks come through the
    /// all-gather, and u's blocks skip the steps without its gradient on every rank alike.
    /// </summary>
    [Fact]
    public async Task Float64_over_three_ranks_equals_one_process_bitwise()
    {
        var options = Options(GraftingType.Adam) with { CommunicationDtype = Precision.Fp64 };
        var generator = new Generator(32);
        var initial = Shapes.Select(s => randn(s.Shape, ScalarType.Float64, generator: generator)).ToArray();
        var gradients = Enumerable.Range(1, Steps)
            .Select(step => Shapes.Select((s, i) => s.Name == "u" && step % 2 == 1 ? null : randn(s.Shape, ScalarType.Float64, generator: generator)).ToArray())
            .ToArray();
        var single = Flat(Run(options, initial, gradients));
        var group = Dtrain.Collectives.Transports.InProcess.InProcessGroup.Create(3);
        var ranks = await Task.WhenAll(group.Select(comm => Task.Run(() => Flat(Run(options, initial, gradients, comm)))));
        Assert.All(ranks, values => Assert.Equal(single, values));
        Assert.NotEqual(Flat(initial), single);
    }

    private static Parameter[] Run(ShampooOptions options, Tensor[] initial, Tensor?[][] gradients, Dtrain.Collectives.Communicator? group = null)
    {
        var parameters = initial.Select(v => new Parameter(v.clone())).ToArray();
        using var shampoo = new ShampooOptimizer(Shapes.Select((s, i) => (s.Name, parameters[i])), options, group);
        foreach (var step in gradients)
        {
            for (int i = 0; i < parameters.Length; i++) parameters[i].grad = step[i]?.clone();
            shampoo.StepAsync().GetAwaiter().GetResult();
        }
        return parameters;
    }

    private static double[] Flat(IEnumerable<Tensor> tensors) => cat(tensors.Select(t => t.detach().flatten()).ToArray()).data<double>().ToArray();

    /// <summary>Shampoo as the reference states it, one block at a time in float64, with no code of the optimizer's.</summary>
    private sealed class Oracle(ShampooOptions options, Tensor[] initial)
    {
        private readonly Dictionary<(int Parameter, int Block), BlockState> states = [];
        private long step;

        public Tensor[] Parameters { get; } = initial.Select(p => p.clone()).ToArray();

        private sealed class BlockState(long[] shape)
        {
            public Tensor[] Factors { get; } = shape.Select(d => zeros(d, d, ScalarType.Float64)).ToArray();
            public Tensor[] Roots { get; } = shape.Select(d => eye(d, dtype: ScalarType.Float64)).ToArray();
            public Tensor Second { get; set; } = zeros(shape, ScalarType.Float64);
            public Tensor First { get; set; } = zeros(shape, ScalarType.Float64);
        }

        public void Step(Tensor?[] gradients)
        {
            step++;
            using var s = new HeldScalars();
            for (int p = 0; p < Parameters.Length; p++)
            {
                if (gradients[p] is not { } gradient) continue;
                var merged = Merge(Parameters[p].shape);
                var blocks = Split(merged);
                for (int b = 0; b < blocks.Count; b++)
                {
                    var range = blocks[b];
                    var state = states.TryGetValue((p, b), out var known) ? known : states[(p, b)] = new BlockState(range.Select(r => r.Length).ToArray());
                    var weights = Narrow(Parameters[p].view(merged), range);
                    var direction = BlockDirection(state, Narrow(gradient.reshape(merged), range).clone(), weights, s);
                    weights.add_(direction * s.Of(-options.LearningRate), s.Of(1));
                }
            }
        }

        private Tensor BlockDirection(BlockState state, Tensor g, Tensor weights, HeldScalars s)
        {
            int order = (int)g.dim();
            for (int k = 0; k < order; k++)
            {
                var others = Enumerable.Range(0, order).Where(d => d != k).Select(d => (long)d).ToArray();
                var outer = order == 1 ? g.outer(g) : tensordot(g, g, others, others);
                state.Factors[k] = (state.Factors[k] * s.Of(options.Beta2)).add(outer * s.Of(1 - options.Beta2), s.One);
            }
            state.Second = options.Grafting switch
            {
                GraftingType.Adagrad => state.Second.add(g * g, s.One),
                GraftingType.Rmsprop or GraftingType.Adam => (state.Second * s.Of(options.GraftingBeta2)).add(g * g * s.Of(1 - options.GraftingBeta2), s.One),
                _ => state.Second,
            };
            long start = options.StartStep;
            if (step == start || (step > start && step % options.PreconditionFrequency == 0))
            {
                for (int k = 0; k < order; k++)
                {
                    state.Roots[k] = InverseRoot(state.Factors[k] / s.Of(1 - Math.Pow(options.Beta2, step)), 1.0 / (2 * order), s);
                }
            }
            var filtered = (state.First * s.Of(options.Beta1)).add(g * s.Of(1 - options.Beta1), s.One);
            state.First = filtered.clone();
            filtered = filtered / s.Of(1 - Math.Pow(options.Beta1, step));
            var grafted = options.Grafting switch
            {
                GraftingType.Adagrad or GraftingType.Rmsprop => filtered / state.Second.sqrt().add(s.Of(options.GraftingEpsilon), s.One),
                GraftingType.Adam => filtered / (state.Second / s.Of(1 - Math.Pow(options.GraftingBeta2, step))).sqrt().add(s.Of(options.GraftingEpsilon), s.One),
                _ => filtered,
            };
            var direction = grafted;
            if (step >= start)
            {
                // Multiply by each dim's root: with the dims kept in place, dim k is contracted and put back.
                direction = filtered;
                for (int k = 0; k < order; k++)
                {
                    direction = tensordot(direction, state.Roots[k], [k], [0]).movedim([order - 1L], [(long)k]);
                }
                if (options.Grafting != GraftingType.None)
                {
                    direction = direction * (grafted.norm() / direction.norm().add(s.Of(1e-16), s.One));
                }
            }
            return direction.add(weights * s.Of(options.WeightDecay), s.One);
        }

        /// <summary>(A + εI)^(-exponent) by eigendecomposition; a spectrum below ε is shifted up to it.</summary>
        private Tensor InverseRoot(Tensor a, double exponent, HeldScalars s)
        {
            var (values, vectors) = linalg.eigh(a.add(eye(a.shape[0], dtype: ScalarType.Float64) * s.Of(options.Epsilon), s.One));
            double smallest = values.min().item<double>();
            if (smallest < options.Epsilon) values = (values - s.Of(smallest)).add(s.Of(options.Epsilon), s.One);
            return vectors.matmul(diag(values.pow(s.Of(-exponent)))).matmul(vectors.T);
        }

        /// <summary>Size-1 dims dropped; neighbours merged from the last dim while the product stays within the limit.</summary>
        private static long[] Merge(long[] shape)
        {
            var merged = new List<long>();
            foreach (long d in shape.Where(d => d != 1).Reverse())
            {
                if (merged.Count > 0 && merged[0] * d <= MaxDim) merged[0] *= d;
                else merged.Insert(0, d);
            }
            return merged.Count == 0 ? [1] : [.. merged];
        }

        /// <summary>Every dim cut into chunks of at most the limit; blocks in row-major order of the chunk grid.</summary>
        private static List<(long Start, long Length)[]> Split(long[] merged)
        {
            var blocks = new List<(long, long)[]> { Array.Empty<(long, long)>() };
            foreach (long size in merged)
            {
                blocks = blocks.SelectMany(prefix => Enumerable.Range(0, (int)((size + MaxDim - 1) / MaxDim))
                    .Select(c => prefix.Append((c * MaxDim, Math.Min(MaxDim, size - c * MaxDim))).ToArray())).ToList();
            }
            return blocks;
        }

        private static Tensor Narrow(Tensor tensor, (long Start, long Length)[] range)
        {
            for (int d = 0; d < range.Length; d++) tensor = tensor.narrow(d, range[d].Start, range[d].Length);
            return tensor;
        }
    }
}
