using System.Text.Json.Serialization;

namespace Dtrain.Contracts.Jobs;

/// <summary>The optimizer whose second moment Shampoo's step sizes are grafted onto (per block).</summary>
public enum GraftingType
{
    None,
    Sgd,
    Adagrad,
    Rmsprop,
    Adam,
}

/// <summary>How weight decay enters the step (reference section 2, steps 4 and 9).</summary>
public enum WeightDecayType
{
    /// <summary>Added to the gradient before anything else sees it (torch SGD/Adam weight_decay).</summary>
    L2,
    /// <summary>wd × W added to the search direction, as AdamW does.</summary>
    Decoupled,
    /// <summary>wd × lr / peak_lr × W added to the search direction: the decay follows the lr schedule twice.</summary>
    Corrected,
    /// <summary>wd / peak_lr × W added to the search direction: the decay per step is wd × W at the peak lr.</summary>
    Independent,
}

public enum RootMethod
{
    Eigendecomposition,
    [JsonStringEnumMemberName("coupled_newton")]
    CoupledNewton,
}

/// <summary>Floating-point precisions for factors and for the all-gathered search directions.</summary>
public enum Precision
{
    Fp32,
    Fp64,
    Bf16,
}

/// <summary>
/// Distributed Shampoo's settings, named after the reference implementation's options (defaults as its
/// constructor's; ../shared/reference/shampoo.md, section 6).
/// </summary>
public sealed record ShampooOptions
{
    /// <summary>What a job's shampoo optimizer takes without a shampoo section: Adam grafting and roots refreshed every 10 steps (reference section 6).</summary>
    public static readonly ShampooOptions JobRecipe = new()
    {
        Grafting = GraftingType.Adam,
        GraftingEpsilon = 1e-8,
        PreconditionFrequency = 10,
    };

    public double LearningRate { get; init; } = 1e-2;
    /// <summary>The lr that CORRECTED and INDEPENDENT weight decay divide by; null means <see cref="LearningRate"/>.</summary>
    public double? PeakLearningRate { get; init; }
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

    /// <summary>
    /// Per block order, the exponent e of each dim's inverse root A^(-e) instead of the default 1/(2 × order):
    /// one value for every dim, or one per dim. 0 leaves that dim unpreconditioned (it keeps no factor).
    /// </summary>
    public IReadOnlyDictionary<int, double[]> InverseExponentOverride { get; init; } = new Dictionary<int, double[]>();

    /// <summary>Precision of the factor matrices and their inverse roots: fp32 or fp64.</summary>
    public Precision FactorMatrixDtype { get; init; } = Precision.Fp32;

    /// <summary>Precision of the search directions where they cross ranks (all-gathered): fp32, bf16 (half the bytes) or fp64 (float64 parameters, bitwise one process).</summary>
    public Precision CommunicationDtype { get; init; } = Precision.Fp32;

    /// <summary>How many ranks share the preconditioner work; the world is cut into groups of consecutive ranks. Null means all.</summary>
    public int? NumTrainersPerGroup { get; init; }

    public long StartStep => StartPreconditioningStep ?? PreconditionFrequency;

    public double PeakLr => PeakLearningRate ?? LearningRate;

    /// <summary>The exponent e of the inverse root A^(-e) of dim <paramref name="dim"/> of a block of order <paramref name="order"/>.</summary>
    public double InverseExponent(int order, int dim) =>
        InverseExponentOverride.TryGetValue(order, out var exponents) ? exponents[exponents.Length == 1 ? 0 : dim] : 1.0 / (2 * order);

    /// <summary>Every problem, each naming the option and the bad value.</summary>
    public IEnumerable<string> Problems()
    {
        if (!(LearningRate > 0)) yield return $"lr must be positive, got {LearningRate}";
        if (PeakLearningRate is { } peak && !(peak > 0)) yield return $"peak_lr must be positive, got {peak}";
        if (Beta1 is < 0 or >= 1) yield return $"beta1 must be in [0, 1), got {Beta1}";
        if (Beta2 is <= 0 or > 1) yield return $"beta2 must be in (0, 1], got {Beta2}";
        if (Beta3 is < 0 or >= 1) yield return $"beta3 must be in [0, 1), got {Beta3}";
        if (!(Epsilon > 0)) yield return $"epsilon must be positive, got {Epsilon}";
        if (WeightDecay < 0) yield return $"weight_decay must not be negative, got {WeightDecay}";
        if (MaxPreconditionerDim < 1) yield return $"max_preconditioner_dim must be at least 1, got {MaxPreconditionerDim}";
        if (PreconditionFrequency < 1) yield return $"precondition_frequency must be at least 1, got {PreconditionFrequency}";
        if (StartStep < 1) yield return $"start_preconditioning_step must be at least 1, got {StartStep}";
        if (Momentum is < 0 or >= 1) yield return $"momentum must be in [0, 1), got {Momentum}";
        if (Grafting is GraftingType.Rmsprop or GraftingType.Adam && GraftingBeta2 is <= 0 or >= 1)
            yield return $"grafting_beta2 must be in (0, 1), got {GraftingBeta2}";
        if (FactorMatrixDtype is not (Precision.Fp32 or Precision.Fp64)) yield return $"factor_matrix_dtype must be fp32 or fp64, got {FactorMatrixDtype}";
        if (NumTrainersPerGroup < 1) yield return $"num_trainers_per_group must be at least 1, got {NumTrainersPerGroup}";
        foreach (var (order, exponents) in InverseExponentOverride)
        {
            string name = $"inverse_exponent_override[{order}]";
            if (order < 1) yield return $"inverse_exponent_override: orders start at 1, got {order}";
            else if (exponents is null) yield return $"{name} needs 1 or {order} exponents, got none";
            else if (exponents.Length != 1 && exponents.Length != order) yield return $"{name} needs 1 or {order} exponents, got {exponents.Length}";
            else if (exponents.Any(e => !(e >= 0) || double.IsInfinity(e))) yield return $"{name} exponents must be finite and not negative, got [{string.Join(", ", exponents)}]";
            else if (RootMethod == RootMethod.CoupledNewton && exponents.Any(e => e != 0 && Math.Abs(1 / e - Math.Round(1 / e)) > 1e-9))
                yield return $"{name}: coupled_newton needs exponents 1/p for whole p, got [{string.Join(", ", exponents)}]";
        }
    }
}
