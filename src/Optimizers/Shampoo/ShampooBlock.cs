using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers.Shampoo.Preconditioner;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Shampoo;

/// <summary>
/// One preconditioner block of a parameter and all of its state: a factor and its inverse root per preconditioned dim, the
/// grafting second moment, the first moment and the momentum buffer. Tensors live outside any dispose scope
/// and are freed by <see cref="Dispose"/>.
/// </summary>
internal sealed class ShampooBlock : IDisposable
{
    private readonly ShampooOptions options;
    /// <summary>Per dim; null where the dim's inverse exponent is 0 (not preconditioned).</summary>
    private readonly Tensor?[] factors, inverseRoots;
    private readonly double[] exponents;
    private readonly ScalarType factorType;
    private readonly Tensor? graftingMoment, firstMoment, momentum;

    /// <param name="name">Names the block in errors: parameter name and block index.</param>
    /// <param name="shape">The block's shape.</param>
    /// <param name="like">A tensor with the block's dtype and device.</param>
    /// <param name="options">The optimizer's settings.</param>
    public ShampooBlock(string name, long[] shape, Tensor like, ShampooOptions options)
    {
        Name = name;
        this.options = options;
        exponents = shape.Select((_, k) => options.InverseExponent(shape.Length, k)).ToArray();
        factorType = options.FactorMatrixDtype == Precision.Fp64 ? ScalarType.Float64 : ScalarType.Float32;
        factors = shape.Select((d, k) => exponents[k] == 0 ? null : zeros(d, d, factorType, like.device).DetachFromDisposeScope()).ToArray();
        inverseRoots = shape.Select((d, k) => exponents[k] == 0 ? null : eye(d, dtype: factorType, device: like.device).DetachFromDisposeScope()).ToArray();
        graftingMoment = options.Grafting is GraftingType.Adagrad or GraftingType.Rmsprop or GraftingType.Adam
            ? zeros(shape, like.dtype, like.device).DetachFromDisposeScope() : null;
        firstMoment = options.Beta1 != 0 ? zeros(shape, like.dtype, like.device).DetachFromDisposeScope() : null;
        momentum = options.Momentum != 0 ? zeros(shape, like.dtype, like.device).DetachFromDisposeScope() : null;
    }

    public string Name { get; }

    public int FailedRootComputations { get; private set; }

    /// <summary>The search direction of one step, -lr x P; the caller adds it to the block of the parameter.</summary>
    /// <param name="gradient">The block's gradient, L2 weight decay already added.</param>
    /// <param name="weights">The block's current parameter values.</param>
    /// <param name="step">The step number, from 1.</param>
    /// <param name="learningRate">This step's lr (a schedule may change it).</param>
    public Tensor SearchDirection(Tensor gradient, Tensor weights, long step, double learningRate)
    {
        using var s = new HeldScalars();
        bool graftingOnly = step < options.StartStep;
        bool amortized = (step % options.PreconditionFrequency == 0 && step > options.StartStep) || step == options.StartStep;
        UpdateFactors(gradient, s);
        UpdateGraftingMoment(gradient, s);
        if (amortized) ComputeInverseRoots(step, s);

        var filtered = FilteredGradient(gradient, step, s);
        var grafted = Graft(filtered, step, s);
        var direction = graftingOnly ? grafted : Precondition(filtered, grafted, s);
        double decay = options.WeightDecayType switch
        {
            WeightDecayType.Decoupled => options.WeightDecay,
            WeightDecayType.Corrected => options.WeightDecay * learningRate / options.PeakLr,
            WeightDecayType.Independent => options.WeightDecay / options.PeakLr,
            _ => 0,
        };
        if (decay != 0)
        {
            direction = direction.add(weights, s.Of(decay));
        }
        if (momentum is not null)
        {
            momentum.mul_(s.Of(options.Momentum)).add_(direction, s.Of(1 - options.Dampening));
            direction = options.Nesterov
                ? (direction * s.Of(1 - options.Dampening)).add(momentum * s.Of(options.Momentum), s.One)
                : momentum.clone();
        }
        return direction * s.Of(-learningRate);
    }

    /// <summary>L_k ← β₂L_k + w·contract(G, G) over every dim but k (w = 1 when β₂ = 1).</summary>
    private void UpdateFactors(Tensor gradient, HeldScalars s)
    {
        double weight = options.Beta2 == 1 ? 1 : 1 - options.Beta2;
        var g = gradient.to(factorType);
        for (int k = 0; k < factors.Length; k++)
        {
            if (factors[k] is not { } factor) continue;
            var others = Enumerable.Range(0, factors.Length).Where(d => d != k).Select(d => (long)d).ToArray();
            var outer = others.Length == 0 ? g.outer(g) : tensordot(g, g, others, others);
            factor.mul_(s.Of(options.Beta2)).add_(outer, s.Of(weight));
        }
    }

    private void UpdateGraftingMoment(Tensor gradient, HeldScalars s)
    {
        if (graftingMoment is null) return;
        var (beta, weight) = options.Grafting == GraftingType.Adagrad ? (1.0, 1.0) : (options.GraftingBeta2, 1 - options.GraftingBeta2);
        graftingMoment.mul_(s.Of(beta)).addcmul_(gradient, gradient, s.Of(weight));
    }

    /// <summary>Inverse roots of the bias-corrected factors; a failure keeps the previous root and is counted.</summary>
    private void ComputeInverseRoots(long step, HeldScalars s)
    {
        double correction = options.UseBiasCorrection && options.Beta2 < 1 ? 1 - Math.Pow(options.Beta2, step) : 1;
        MatrixRootException? failure = null;
        for (int k = 0; k < factors.Length; k++)
        {
            if (factors[k] is null) continue;
            using var scope = NewDisposeScope();
            var factor = factors[k]! / s.Of(correction);
            if (!isfinite(factor).all().item<bool>())
            {
                throw new MatrixRootException($"{Name}: factor {k} contains NaN or Inf at step {step}");
            }
            double root = 1 / exponents[k];
            try
            {
                var inverse = options.RootMethod == RootMethod.Eigendecomposition
                    ? MatrixRoots.InverseRootByEigendecomposition(factor, root, options.Epsilon)
                    : MatrixRoots.InverseRootByCoupledNewton(factor, (int)Math.Round(root));
                inverseRoots[k]!.copy_(inverse);
            }
            catch (MatrixRootException e)
            {
                failure = e;   // the previous inverse root stays
            }
        }
        // The reference tolerates up to 3 failed amortized computations in a row.
        FailedRootComputations = failure is null ? 0 : FailedRootComputations + 1;
        if (FailedRootComputations > 3)
        {
            throw new MatrixRootException($"{Name}: the inverse roots failed {FailedRootComputations} times in a row at step {step}", failure);
        }
    }

    /// <summary>The first-moment filter: G̃ = lerp(M, G, 1-β₃), M ← lerp(M, G, 1-β₁), G̃ bias-corrected.</summary>
    private Tensor FilteredGradient(Tensor gradient, long step, HeldScalars s)
    {
        if (firstMoment is null) return gradient;
        double beta1 = options.Beta1, beta3 = options.Beta3 ?? beta1;
        var filtered = (firstMoment * s.Of(beta3)).add(gradient * s.Of(1 - beta3), s.One);
        using var weight = tensor(1 - beta1);   // lerp_ takes its weight as a tensor
        firstMoment.lerp_(gradient, weight);
        return options.UseBiasCorrection ? filtered / s.Of(1 - beta3 * Math.Pow(beta1, step - 1)) : filtered;
    }

    private Tensor Graft(Tensor direction, long step, HeldScalars s) => options.Grafting switch
    {
        GraftingType.None or GraftingType.Sgd => direction,
        GraftingType.Adagrad or GraftingType.Rmsprop => direction / graftingMoment!.sqrt().add(s.Of(options.GraftingEpsilon), s.One),
        GraftingType.Adam => direction / (graftingMoment! / s.Of(1 - Math.Pow(options.GraftingBeta2, step))).sqrt().add(s.Of(options.GraftingEpsilon), s.One),
        _ => throw new ArgumentOutOfRangeException(nameof(options.Grafting)),
    };

    /// <summary>G̃ multiplied by each inverse root along its dim, then scaled to the grafted direction's norm.</summary>
    private Tensor Precondition(Tensor filtered, Tensor grafted, HeldScalars s)
    {
        var direction = filtered.to(factorType);
        foreach (var inverse in inverseRoots)
        {
            // Contracting the leading dim moves it last (an unpreconditioned dim is just moved): after all dims,
            // the original order is back.
            direction = inverse is null ? direction.movedim([0], [-1]) : tensordot(direction, inverse, [0], [0]);
        }
        direction = direction.to(filtered.dtype);
        return options.Grafting == GraftingType.None
            ? direction
            : direction * (grafted.norm() / direction.norm().add(s.Of(1e-16), s.One));
    }

    /// <summary>Every state tensor, always in the same order; absent ones (no momentum, say) are skipped.</summary>
    private IEnumerable<Tensor> State() =>
        factors.Concat(inverseRoots).Concat([graftingMoment, firstMoment, momentum]).OfType<Tensor>();

    public void Save(BinaryWriter writer)
    {
        writer.Write(FailedRootComputations);
        foreach (var tensor in State()) StateFormat.Write(writer, tensor);
    }

    public void Load(BinaryReader reader)
    {
        FailedRootComputations = reader.ReadInt32();
        foreach (var tensor in State()) StateFormat.ReadInto(reader, tensor, Name);
    }

    public void Dispose()
    {
        foreach (var tensor in State()) tensor.Dispose();
    }
}
