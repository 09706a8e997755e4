using Dtrain.Coordinator.Grains;

namespace Dtrain.Tests.Coordinator;

/// <summary>The job's state follows what its workers report, through restarts, to the end.</summary>
public sealed class JobGrainTests : ClusterTest
{
    private static RankProgress Progress(int rank, int step) => new() { Rank = rank, Step = step, Loss = 0.5, Samples = step * 8L };

    private static RankResult Result(int rank) => new() { Rank = rank, FinalLoss = 0.1, TestAccuracy = 0.9, ParameterDigest = "d" };

    [Fact]
    public async Task Forming_running_restarting_running_completed()
    {
        var job = Grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString());
        Assert.Equal((JobState.Forming, 1L, 0), await StateAsync(job));

        await job.ReportProgressAsync(Progress(0, 0)); // a heartbeat before the first step
        Assert.Equal(JobState.Forming, (await job.GetStatusAsync()).State);
        await job.ReportProgressAsync(Progress(0, 3));
        await job.ReportProgressAsync(Progress(1, 2));
        Assert.Equal(JobState.Running, (await job.GetStatusAsync()).State);

        await job.RestartAsync(2);
        Assert.Equal((JobState.Restarting, 2L, 1), await StateAsync(job));
        Assert.Empty((await job.GetStatusAsync()).Progress);

        await job.ReportProgressAsync(Progress(0, 4));
        await job.ReportProgressAsync(Progress(1, 4));
        Assert.Equal(JobState.Running, (await job.GetStatusAsync()).State);
        await job.FinishAsync(Result(0));
        Assert.Equal(JobState.Running, (await job.GetStatusAsync()).State);
        await job.FinishAsync(Result(1));
        Assert.Equal((JobState.Completed, 2L, 1), await StateAsync(job));
    }

    [Fact]
    public async Task A_failed_job_says_why()
    {
        var job = Grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString());
        await job.ReportProgressAsync(Progress(0, 3));
        await job.FailAsync("worker 1 failed (exit code 137)");

        var status = await job.GetStatusAsync();
        Assert.Equal(JobState.Failed, status.State);
        Assert.Equal("worker 1 failed (exit code 137)", status.Failure);
    }

    private static async Task<(JobState, long, int)> StateAsync(IJobGrain job)
    {
        var status = await job.GetStatusAsync();
        return (status.State, status.Epoch, status.Restarts);
    }
}
