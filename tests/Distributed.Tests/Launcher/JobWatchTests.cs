using Dtrain.Contracts;
using Dtrain.Coordinator.Grains;
using Dtrain.Launcher.Monitoring;
using Dtrain.Tests.Coordinator;

namespace Dtrain.Tests.Launcher;

public sealed class JobWatchTests : ClusterTest
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);

    private static RankResult Result(int rank, string digest) =>
        new() { Rank = rank, FinalLoss = 0.5, TestAccuracy = 0.9, ParameterDigest = digest };

    [Fact]
    public async Task Ranks_that_end_with_different_parameters_fail_the_job()
    {
        var job = Grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString());
        await job.FinishAsync(Result(0, "aaaa"));
        await job.FinishAsync(Result(1, "bbbb"));

        var error = await Assert.ThrowsAsync<DtrainException>(
            () => new JobWatch(job, 2, 10, Heartbeat).WaitAsync(_ => { }, () => null, CancellationToken.None));
        Assert.StartsWith("the ranks ended with different parameters (2 distinct digests)", error.Message);
    }

    [Fact]
    public async Task A_failure_outside_the_grain_ends_the_wait_with_its_message()
    {
        var job = Grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString());
        await job.ReportProgressAsync(new RankProgress { Rank = 0, Step = 3, Loss = 1.5, Samples = 96 });
        var seen = new List<JobSnapshot>();

        var error = await Assert.ThrowsAsync<DtrainException>(
            () => new JobWatch(job, 2, 10, Heartbeat).WaitAsync(seen.Add, () => "worker 1 failed", CancellationToken.None));

        Assert.Equal("worker 1 failed", error.Message);
        Assert.Equal(3, Assert.Single(seen).Step);
    }

    [Fact]
    public async Task Agreeing_ranks_complete_the_job()
    {
        var job = Grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString());
        await job.FinishAsync(Result(1, "cafe"));
        await job.FinishAsync(Result(0, "cafe"));

        var outcome = await new JobWatch(job, 2, 10, Heartbeat).WaitAsync(_ => { }, () => null, CancellationToken.None);
        Assert.Equal("cafe", outcome.ParameterDigest);
        Assert.Equal([0, 1], outcome.Results.Select(r => r.Rank));
    }

    [Fact]
    public async Task A_rank_that_goes_silent_is_declared_lost_after_the_heartbeat_timeout()
    {
        var job = Grains.GetGrain<IJobGrain>(Guid.NewGuid().ToString());
        await job.ReportProgressAsync(new RankProgress { Rank = 0, Step = 2, Loss = 1.0, Samples = 64 });
        await job.ReportProgressAsync(new RankProgress { Rank = 1, Step = 2, Loss = 1.0, Samples = 64 });
        var watching = new JobWatch(job, 2, 10, TimeSpan.FromSeconds(1)).WaitAsync(_ => { }, () => null, CancellationToken.None);
        // Rank 0 keeps beating, rank 1 says nothing more.
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (!watching.IsCompleted && started.Elapsed < TimeSpan.FromSeconds(10))
        {
            await job.ReportProgressAsync(new RankProgress { Rank = 0, Step = 2, Loss = 1.0, Samples = 64 });
            await Task.Delay(100);
        }

        var error = await Assert.ThrowsAsync<DtrainException>(() => watching);
        Assert.Equal("rank 1 was lost: no heartbeat for 1 s", error.Message);
        Assert.InRange(started.Elapsed.TotalSeconds, 0.8, 3);
    }
}
