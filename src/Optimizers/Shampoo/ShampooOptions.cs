namespace Dtrain.Optimizers.Shampoo;

/// <summary>The optimizer whose second moment Shampoo's step sizes are grafted onto (per block).</summary>
public enum GraftingType
{
    None,
    Sgd,
    AdaGrad,
    RmsProp,
    Adam,
}

public enum WeightDecayType
{
    /// <summary>Added to the gradient before anything else sees it (torch SGD/Adam weight_decay).</summary>
    L2,
    /// <summary>Added to the search direction, as AdamW does.</summary>
    Decoupled,
}

public enum RootMethod
{
    Eigendecomposition,
    CoupledNewton,
}

/// <summary>
/// Distributed Shampoo's settings, named after the reference implementation's options (defaults as its
/// constructor's; ../shared/reference/shampoo.md, section 6).
/// </summary>
public sealed record ShampooOptions
{
    public double LearningRate { get; init; } = 1e-2;
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Factor EMA; 1 accumulates like AdaGrad.</summary>
    public double Beta2 { get; init; } = 1.0;
    /// <summary>The first-moment interpolation of the preconditioned gradient; null means Beta1.</summary>
    public double? Beta3 { get; init; }
    public double Epsilon { get; init; } = 1e-12;
    public double WeightDecay { get; init; }
    public WeightDecayType WeightDecayType { get; init; } = WeightDecayType.Decoupled;
    public long MaxPreconditionerDim { get; init; } = 1024;
    public int PreconditionFrequency { get; init; } = 1;
    /// <summary>Steps before it only grafts; null means <see cref="PreconditionFrequency"/>.</summary>
    public long? StartPreconditioningStep { get; init; }
    public bool UseBiasCorrection { get; init; } = true;
    public GraftingType Grafting { get; init; } = GraftingType.None;
    public double GraftingBeta2 { get; init; } = 0.999;
    public double GraftingEpsilon { get; init; } = 1e-10;
    public double Momentum { get; init; }
    public double Dampening { get; init; }
    public bool Nesterov { get; init; }
    public RootMethod RootMethod { get; init; } = RootMethod.Eigendecomposition;

    public long StartStep => StartPreconditioningStep ?? PreconditionFrequency;

    /// <summary>Every problem, each naming the option and the bad value.</summary>
    public IEnumerable<string> Problems()
    {
        if (!(LearningRate > 0)) yield return $"lr must be positive, got {LearningRate}";
        if (Beta1 is < 0 or >= 1) yield return $"beta1 must be in [0, 1), got {Beta1}";
        if (Beta2 is <= 0 or > 1) yield return $"beta2 must be in (0, 1], got {Beta2}";
        if (Beta3 is < 0 or >= 1) yield return $"beta3 must be in [0, 1), got {Beta3}";
        if (!(Epsilon > 0)) yield return $"epsilon must be positive, got {Epsilon}";
        if (WeightDecay < 0) yield return $"weight_decay must not be negative, got {WeightDecay}";
        if (MaxPreconditionerDim < 1) yield return $"max_preconditioner_dim must be at least 1, got {MaxPreconditionerDim}";
        if (PreconditionFrequency < 1) yield return $"precondition_frequency must be at least 1, got {PreconditionFrequency}";
        if (StartStep < 1) yield return $"start_preconditioning_step must be at least 1, got {StartStep}";
        if (Momentum is < 0 or >= 1) yield return $"momentum must be in [0, 1), got {Momentum}";
        if (Grafting is GraftingType.RmsProp or GraftingType.Adam && GraftingBeta2 is <= 0 or >= 1)
            yield return $"grafting_beta2 must be in (0, 1), got {GraftingBeta2}";
    }
}
