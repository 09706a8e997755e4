using Dtrain.Coordinator.Grains;
using Dtrain.Telemetry;
using Dtrain.Tests.Coordinator;

namespace Dtrain.Tests.Telemetry;

/// <summary>The coordinator's dtrain_job_* and checkpoint series follow the job's grains through a restart and a failure.</summary>
public sealed class JobMetricsTests : ClusterTest
{
    private static readonly string[] States = ["forming", "running", "restarting", "completed", "failed"];

    private static void AssertState(string expected)
    {
        foreach (string state in States)
        {
            Assert.True(DtrainMetrics.JobState.WithLabels(state).Value == (state == expected ? 1 : 0),
                $"dtrain_job_state{{state=\"{state}\"}} is {DtrainMetrics.JobState.WithLabels(state).Value} while the job is {expected}");
        }
    }

    [Fact]
    public async Task State_epoch_and_restarts_follow_the_job_to_its_failure()
    {
        var job = Grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString());
        // The counter belongs to the process, whose earlier tests ran jobs too (the tests run one at a time): this job's restarts are what it gains here.
        double restartsBefore = DtrainMetrics.JobRestarts.Value;
        await job.GetStatusAsync();
        AssertState("forming");
        Assert.Equal(1, DtrainMetrics.JobEpoch.Value);

        await job.ReportProgressAsync(new RankProgress { Rank = 0, Step = 3, Loss = 0.5, Samples = 24, Epoch = 1 });
        AssertState("running");

        await job.EndEpochAsync(1, "rank 1 was lost");
        AssertState("restarting");
        Assert.Equal(2, DtrainMetrics.JobEpoch.Value);
        Assert.Equal(restartsBefore + 1, DtrainMetrics.JobRestarts.Value);

        await job.EndEpochAsync(2, "rank 0 was lost");   // past the one restart the job allows
        AssertState("failed");
        Assert.Equal(2, DtrainMetrics.JobEpoch.Value);
        // The counter counts epochs ended by a loss (docs/metrics.md), this last one included.
        Assert.Equal(restartsBefore + 2, DtrainMetrics.JobRestarts.Value);
    }
}
