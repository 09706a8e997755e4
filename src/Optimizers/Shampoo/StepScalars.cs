using Dtrain.Contracts.Jobs;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Shampoo;

/// <summary>The Scalars that Shampoo's options fix, made once per optimizer (not per block per step) and held until it is disposed.</summary>
internal sealed class OptionScalars : IDisposable
{
    private readonly HeldScalars held = new();

    public OptionScalars(ShampooOptions options)
    {
        double beta3 = options.Beta3 ?? options.Beta1;
        Beta2 = held.Of(options.Beta2);
        FactorWeight = held.Of(options.Beta2 == 1 ? 1 : 1 - options.Beta2);
        var (graftingBeta, graftingWeight) = options.Grafting == GraftingType.Adagrad ? (1.0, 1.0) : (options.GraftingBeta2, 1 - options.GraftingBeta2);
        GraftingBeta = held.Of(graftingBeta);
        GraftingWeight = held.Of(graftingWeight);
        GraftingEpsilon = held.Of(options.GraftingEpsilon);
        Beta3 = held.Of(beta3);
        OneMinusBeta3 = held.Of(1 - beta3);
        Momentum = held.Of(options.Momentum);
        OneMinusDampening = held.Of(1 - options.Dampening);
        NormFloor = held.Of(1e-16);
        L2WeightDecay = options.WeightDecayType == WeightDecayType.L2 && options.WeightDecay != 0 ? held.Of(options.WeightDecay) : null;
        FirstMomentWeight = tensor(1 - options.Beta1).DetachFromDisposeScope();
    }

    public Scalar Beta2 { get; }
    public Scalar FactorWeight { get; }
    public Scalar GraftingBeta { get; }
    public Scalar GraftingWeight { get; }
    public Scalar GraftingEpsilon { get; }
    public Scalar Beta3 { get; }
    public Scalar OneMinusBeta3 { get; }
    public Scalar Momentum { get; }
    public Scalar OneMinusDampening { get; }
    /// <summary>Added to a direction's norm before the grafted norm is divided by it.</summary>
    public Scalar NormFloor { get; }
    public Scalar One => held.One;
    /// <summary>The L2 weight decay added to the gradient; null when there is none.</summary>
    public Scalar? L2WeightDecay { get; }
    /// <summary>1 - β₁, as the tensor that lerp_ takes for its weight.</summary>
    public Tensor FirstMomentWeight { get; }

    public void Dispose()
    {
        held.Dispose();
        FirstMomentWeight.Dispose();
    }
}

/// <summary>What every block's update shares in one step: its number, its phase, and the Scalars that depend on the step or the lr.</summary>
internal sealed class StepScalars : IDisposable
{
    private readonly HeldScalars held = new();

    public StepScalars(long step, double learningRate, ShampooOptions options)
    {
        Number = step;
        GraftingOnly = step < options.StartStep;
        Amortized = (step % options.PreconditionFrequency == 0 && step > options.StartStep) || step == options.StartStep;
        FactorCorrection = options.UseBiasCorrection && options.Beta2 < 1 ? 1 - Math.Pow(options.Beta2, step) : 1;
        double beta3 = options.Beta3 ?? options.Beta1;
        FirstMomentCorrection = held.Of(1 - beta3 * Math.Pow(options.Beta1, step - 1));
        GraftingCorrection = held.Of(1 - Math.Pow(options.GraftingBeta2, step));
        MinusLearningRate = held.Of(-learningRate);
        double decay = options.WeightDecayType switch
        {
            WeightDecayType.Decoupled => options.WeightDecay,
            WeightDecayType.Corrected => options.WeightDecay * learningRate / options.PeakLr,
            WeightDecayType.Independent => options.WeightDecay / options.PeakLr,
            _ => 0,
        };
        DirectionDecay = decay != 0 ? held.Of(decay) : null;
    }

    public long Number { get; }

    /// <summary>Before the start step only the grafted direction is taken.</summary>
    public bool GraftingOnly { get; }

    /// <summary>Whether this step computes the inverse roots anew.</summary>
    public bool Amortized { get; }

    /// <summary>What the factors are divided by before their roots are taken (1 - β₂^step, or 1).</summary>
    public double FactorCorrection { get; }

    public Scalar FirstMomentCorrection { get; }

    /// <summary>Adam grafting's bias correction of its second moment.</summary>
    public Scalar GraftingCorrection { get; }

    public Scalar MinusLearningRate { get; }

    /// <summary>The weight decay added to the search direction (decoupled, corrected or independent); null when there is none.</summary>
    public Scalar? DirectionDecay { get; }

    public void Dispose() => held.Dispose();
}
