using Dtrain.Optimizers.Schedules;

namespace Dtrain.Tests.Optimizers;

/// <summary>Schedule values at chosen steps against their closed forms.</summary>
public class LearningRateScheduleTests
{
    [Fact]
    public void Warmup_then_cosine_decays_to_the_floor_and_stays_there()
    {
        var schedule = new WarmupCosineSchedule(1e-3, warmupSteps: 4, decaySteps: 10, floor: 1e-4);

        Assert.Equal(0.25e-3, schedule.At(0));
        Assert.Equal(0.75e-3, schedule.At(2));
        Assert.Equal(1e-3, schedule.At(4));                                                  // warm-up done: the base rate
        Assert.Equal(1e-4 + 0.9e-3 * (1 + Math.Cos(Math.PI * 3 / 10)) / 2, schedule.At(7));
        Assert.Equal(1e-4 + 0.9e-3 / 2, schedule.At(9), 1e-18);                                // half way: the mid point
        Assert.Equal(1e-4, schedule.At(14));
        Assert.Equal(1e-4, schedule.At(1_000_000));
    }

    [Fact]
    public void Step_decay_multiplies_by_gamma_every_n_steps_after_the_warmup()
    {
        var schedule = new StepDecaySchedule(0.1, warmupSteps: 2, every: 3, gamma: 0.5);

        Assert.Equal(0.05, schedule.At(0));
        Assert.Equal(new[] { 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025 }, Enumerable.Range(2, 7).Select(t => schedule.At(t)));
        Assert.Equal(0.1 * Math.Pow(0.5, 33), schedule.At(2 + 99));
    }

    [Fact]
    public void Without_warmup_the_first_step_gets_the_base_rate()
    {
        Assert.Equal(0.1, new StepDecaySchedule(0.1, warmupSteps: 0, every: 5, gamma: 0.1).At(0));
        Assert.Equal(0.1, new WarmupCosineSchedule(0.1, warmupSteps: 0, decaySteps: 5, floor: 0).At(0));
    }

    [Fact]
    public void A_floor_above_the_base_rate_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new WarmupCosineSchedule(0.1, 0, 10, floor: 0.2));
        Assert.StartsWith("the floor must be in [0, 0.1]", error.Message);
    }
}
