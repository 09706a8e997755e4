using Dtrain.Optimizers.Flat;

namespace Dtrain.Optimizers.Schedules;

/// <summary>
/// A learning rate as a pure function of the step (the number of steps already taken), so a run resumed from a
/// checkpoint at step t gets the rates it would have had. The first <see cref="WarmupSteps"/> steps ramp linearly
/// up to the base rate: step t gets base × (t + 1) / warmup, so the first step does not use a rate of zero; a
/// subclass decides the rest.
/// </summary>
public abstract record LearningRateSchedule
{
    protected LearningRateSchedule(double baseLearningRate, long warmupSteps)
    {
        if (!(baseLearningRate >= 0) || double.IsInfinity(baseLearningRate)) throw new ArgumentOutOfRangeException(nameof(baseLearningRate), baseLearningRate, "the base learning rate must be finite and not negative");
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        (BaseLearningRate, WarmupSteps) = (baseLearningRate, warmupSteps);
    }

    public double BaseLearningRate { get; }

    public long WarmupSteps { get; }

    public double At(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return step < WarmupSteps ? BaseLearningRate * (step + 1) / WarmupSteps : AfterWarmup(step - WarmupSteps);
    }

    /// <summary>Sets the rate of step <paramref name="step"/> on <paramref name="optimizer"/>; call it before that step.</summary>
    public void Apply(IAdjustableLearningRate optimizer, long step) => optimizer.LearningRate = At(step);

    /// <summary>The rate <paramref name="step"/> steps after the warm-up.</summary>
    protected abstract double AfterWarmup(long step);
}

/// <summary>
/// After the warm-up, half a cosine from the base rate down to <see cref="Floor"/> over <see cref="DecaySteps"/>
/// steps, then the floor: floor + (base - floor) × (1 + cos(π × t / decay)) / 2.
/// </summary>
public sealed record WarmupCosineSchedule : LearningRateSchedule
{
    public WarmupCosineSchedule(double baseLearningRate, long warmupSteps, long decaySteps, double floor) : base(baseLearningRate, warmupSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(decaySteps, 1);
        if (!(floor >= 0 && floor <= baseLearningRate)) throw new ArgumentOutOfRangeException(nameof(floor), floor, $"the floor must be in [0, {baseLearningRate}]");
        (DecaySteps, Floor) = (decaySteps, floor);
    }

    public long DecaySteps { get; }

    public double Floor { get; }

    protected override double AfterWarmup(long step) =>
        step >= DecaySteps ? Floor : Floor + (BaseLearningRate - Floor) * (1 + Math.Cos(Math.PI * step / DecaySteps)) / 2;
}

/// <summary>After the warm-up, the base rate times <see cref="Gamma"/> for every <see cref="Every"/> steps completed (torch's StepLR).</summary>
public sealed record StepDecaySchedule : LearningRateSchedule
{
    public StepDecaySchedule(double baseLearningRate, long warmupSteps, long every, double gamma) : base(baseLearningRate, warmupSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        if (!(gamma > 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be in (0, 1]");
        (Every, Gamma) = (every, gamma);
    }

    public long Every { get; }

    public double Gamma { get; }

    protected override double AfterWarmup(long step) => BaseLearningRate * Math.Pow(Gamma, step / Every);
}
