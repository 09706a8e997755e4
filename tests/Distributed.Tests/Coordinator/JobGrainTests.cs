using Dtrain.Coordinator.Grains;

namespace Dtrain.Tests.Coordinator;

/// <summary>The job's state follows what its workers report, through ended epochs and restarts, to the end.</summary>
public sealed class JobGrainTests : ClusterTest
{
    private static RankProgress Progress(int rank, int step, long epoch = 1) =>
        new() { Rank = rank, Step = step, Loss = 0.5, Samples = step * 8L, Epoch = epoch };

    private static RankResult Result(int rank, long epoch) =>
        new() { Rank = rank, FinalLoss = 0.1, TestAccuracy = 0.9, ParameterDigest = "d", Epoch = epoch, WorldSize = 2 };

    /// <summary>A job whose rendezvous is open, as the coordinator opens it.</summary>
    private async Task<(IJobGrain Job, IRendezvousGrain Rendezvous)> NewJobAsync()
    {
        string id = Guid.NewGuid().ToString();
        var rendezvous = Grains.GetGrain<IRendezvousGrain>(id);
        await rendezvous.OpenAsync(RendezvousRules.Fixed(Job.Workers));
        return (Grains.GetGrain<IJobGrain>(id), rendezvous);
    }

    [Fact]
    public async Task Forming_running_restarting_running_completed()
    {
        var (job, _) = await NewJobAsync();
        Assert.Equal((JobState.Forming, 1L, 0), await StateAsync(job));

        await job.ReportProgressAsync(Progress(0, 0)); // a heartbeat before the first step
        Assert.Equal(JobState.Forming, (await job.GetStatusAsync()).State);
        await job.ReportProgressAsync(Progress(0, 7));
        Assert.Equal(1, await job.ReportProgressAsync(Progress(1, 6)));
        Assert.Equal(JobState.Running, (await job.GetStatusAsync()).State);

        await job.EndEpochAsync(1, "rank 1 was lost", lostProcessId: 42);
        Assert.Equal((JobState.Restarting, 2L, 1), await StateAsync(job));
        var status = await job.GetStatusAsync();
        Assert.Empty(status.Progress);
        Assert.Equal(new EpochRestart { Epoch = 2, Reason = "rank 1 was lost", ReachedStep = 7, ResumeStep = 0, At = status.LastRestart!.At, LostProcessId = 42 },
            status.LastRestart);

        // A survivor telling of the same failure, and reports of the ended epoch, change nothing.
        await job.EndEpochAsync(1, "rank 0: lost the connection to rank 1");
        Assert.Equal(2, await job.ReportProgressAsync(Progress(0, 8)));
        Assert.False(await job.FinishAsync(Result(0, epoch: 1)));
        Assert.Equal((JobState.Restarting, 2L, 1), await StateAsync(job));

        await job.ReportProgressAsync(Progress(0, 4, epoch: 2));
        await job.ReportProgressAsync(Progress(1, 4, epoch: 2));
        Assert.Equal(JobState.Running, (await job.GetStatusAsync()).State);
        Assert.True(await job.FinishAsync(Result(0, epoch: 2)));
        Assert.Equal(JobState.Running, (await job.GetStatusAsync()).State);
        Assert.True(await job.FinishAsync(Result(1, epoch: 2)));
        Assert.Equal((JobState.Completed, 2L, 1), await StateAsync(job));
    }

    [Fact]
    public async Task A_failure_beyond_the_last_restart_fails_the_job_and_says_why()
    {
        var (job, _) = await NewJobAsync();
        await job.EndEpochAsync(1, "worker 0 failed (exit code 137)");
        await job.EndEpochAsync(2, "worker 1 failed (exit code 137)");

        var status = await job.GetStatusAsync();
        Assert.Equal(JobState.Failed, status.State);
        Assert.Equal("worker 1 failed (exit code 137); no restart left (max restarts 1)", status.Failure);
        Assert.Equal(2, status.Epoch);
    }

    [Fact]
    public async Task Only_the_exit_of_a_current_worker_ends_the_epoch()
    {
        var (job, rendezvous) = await NewJobAsync();
        await rendezvous.JoinAsync(new WorkerRegistration { PeerAddress = "http://10.0.0.1:7000", ProcessId = 1001 });

        await job.ProcessExitedAsync(999, "worker 5 failed (exit code 1)");
        Assert.Equal(1, (await job.GetStatusAsync()).Epoch);

        await job.ProcessExitedAsync(1001, "worker 0 failed (exit code 137)");
        var status = await job.GetStatusAsync();
        Assert.Equal((2L, 1001), (status.Epoch, status.LastRestart!.LostProcessId));
        Assert.DoesNotContain(1001, await rendezvous.GetMemberProcessIdsAsync());
    }

    [Fact]
    public async Task Growing_the_world_ends_the_epoch_without_counting_a_restart()
    {
        var (job, _) = await NewJobAsync();
        await job.GrowAsync();

        var status = await job.GetStatusAsync();
        Assert.Equal((2L, 0), (status.Epoch, status.Restarts));
        Assert.StartsWith("a worker joined epoch 1", status.LastRestart!.Reason);
    }

    [Fact]
    public async Task A_failed_job_says_why()
    {
        var (job, _) = await NewJobAsync();
        await job.ReportProgressAsync(Progress(0, 3));
        await job.FailAsync("epoch 1 has 1 of its minimum 2 workers after 300 s");

        var status = await job.GetStatusAsync();
        Assert.Equal(JobState.Failed, status.State);
        Assert.Equal("epoch 1 has 1 of its minimum 2 workers after 300 s", status.Failure);
    }

    private static async Task<(JobState, long, int)> StateAsync(IJobGrain job)
    {
        var status = await job.GetStatusAsync();
        return (status.State, status.Epoch, status.Restarts);
    }
}
