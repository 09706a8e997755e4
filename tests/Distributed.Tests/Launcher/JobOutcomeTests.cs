using Dtrain.Contracts.Jobs;
using Dtrain.Launcher.Monitoring;

namespace Dtrain.Tests.Launcher;

public class JobOutcomeTests
{
    private static JobOutcome Outcome(double finalLoss) =>
        new([new RankResultView(0, finalLoss, 0.9731, "37cd28e7afffcf91d2c4", 1000)], TimeSpan.FromSeconds(4.5));

    /// <summary>A job resumed from a checkpoint of its last step trained nothing: its line says so instead of "final loss NaN".</summary>
    [Fact]
    public void A_job_that_trained_no_step_says_so_instead_of_a_final_loss()
    {
        var job = new JobSpec { Workers = 1, Steps = 20 };

        Assert.Equal("done: 20 steps on 1 workers, final loss 0.0845, held-out accuracy 97.31 %, wall time 4.5 s, parameters identical on all ranks (sha256 37cd28e7afffcf91)",
            Outcome(0.0845).Describe(job));
        Assert.Equal("done: 20 steps on 1 workers, no step left to train, held-out accuracy 97.31 %, wall time 4.5 s, parameters identical on all ranks (sha256 37cd28e7afffcf91)",
            Outcome(double.NaN).Describe(job));
    }
}
