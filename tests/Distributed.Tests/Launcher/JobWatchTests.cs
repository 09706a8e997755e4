using Dtrain.Contracts;
using Dtrain.Coordinator.Grains;
using Dtrain.Launcher.Monitoring;
using Dtrain.Tests.Coordinator;

namespace Dtrain.Tests.Launcher;

public sealed class JobWatchTests : ClusterTest
{
    private static readonly Func<JobStatus, Task> Unsupervised = _ => Task.CompletedTask;

    private static RankResult Result(int rank, string digest) =>
        new() { Rank = rank, FinalLoss = 0.5, TestAccuracy = 0.9, ParameterDigest = digest, WorldSize = 2 };

    [Fact]
    public async Task Ranks_that_end_with_different_parameters_fail_the_job()
    {
        var job = Grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString());
        await job.FinishAsync(Result(0, "aaaa"));
        await job.FinishAsync(Result(1, "bbbb"));

        var error = await Assert.ThrowsAsync<DtrainException>(
            () => new JobWatch(job, 10).WaitAsync(_ => { }, Unsupervised, CancellationToken.None));
        Assert.StartsWith("the ranks ended with different parameters (2 distinct digests)", error.Message);
    }

    [Fact]
    public async Task A_failure_outside_the_grain_ends_the_wait_with_its_message()
    {
        var job = Grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString());
        await job.ReportProgressAsync(new RankProgress { Rank = 0, Step = 3, Loss = 1.5, Samples = 96 });
        var seen = new List<JobSnapshot>();

        var error = await Assert.ThrowsAsync<DtrainException>(
            () => new JobWatch(job, 10).WaitAsync(seen.Add, _ => throw new DtrainException("worker 1 failed"), CancellationToken.None));

        Assert.Equal("worker 1 failed", error.Message);
        Assert.Equal(3, Assert.Single(seen).Step);
    }

    [Fact]
    public async Task A_job_the_coordinator_failed_ends_the_wait_with_its_reason()
    {
        var job = Grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString());
        await job.FailAsync("epoch 1 has 1 of its minimum 2 workers after 300 s");

        var error = await Assert.ThrowsAsync<DtrainException>(() => new JobWatch(job, 10).WaitAsync(_ => { }, Unsupervised, CancellationToken.None));
        Assert.Equal("epoch 1 has 1 of its minimum 2 workers after 300 s", error.Message);
    }

    [Fact]
    public async Task Agreeing_ranks_complete_the_job()
    {
        var job = Grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString());
        await job.FinishAsync(Result(1, "cafe"));
        await job.FinishAsync(Result(0, "cafe"));

        var outcome = await new JobWatch(job, 10).WaitAsync(_ => { }, Unsupervised, CancellationToken.None);
        Assert.Equal("cafe", outcome.ParameterDigest);
        Assert.Equal([0, 1], outcome.Results.Select(r => r.Rank));
    }
}
