using System.Diagnostics;
using Dtrain.Coordinator.Grains;

namespace Dtrain.Tests.Coordinator;

/// <summary>A worker that stops its heartbeats is lost after the timeout, and its epoch ends.</summary>
public sealed class WorkerGrainTests : ClusterTest
{
    [Fact]
    public async Task A_worker_that_goes_silent_ends_its_epoch_after_the_heartbeat_timeout()
    {
        string jobId = Guid.NewGuid().ToString();
        await Grains.GetGrain<IRendezvousGrain>(jobId).OpenAsync(RendezvousRules.Fixed(Job.Workers));
        var job = Grains.GetGrain<IJobGrain>(jobId);
        var worker = Grains.GetGrain<IWorkerGrain>(Guid.NewGuid().ToString("N"));
        await worker.WatchAsync(new WatchedWorker { JobId = jobId, Epoch = 1, Rank = 1, ProcessId = 4242, HeartbeatTimeout = TimeSpan.FromSeconds(3) });

        // Beating for longer than the timeout keeps it alive. Silence counts from the last beat, however late the loop
        // ran. The timeout is seconds, not one: a loaded 2-core machine once stalled this loop for a whole second.
        var (beating, silent) = (Stopwatch.StartNew(), new Stopwatch());
        while (beating.Elapsed < TimeSpan.FromSeconds(4.5))
        {
            await worker.HeartbeatAsync();
            silent.Restart();
            await Task.Delay(100);
        }
        Assert.Equal(1, (await job.GetStatusAsync()).Epoch);

        JobStatus status;
        while ((status = await job.GetStatusAsync()).Epoch == 1 && silent.Elapsed < TimeSpan.FromSeconds(15)) await Task.Delay(50);

        Assert.InRange(silent.Elapsed.TotalSeconds, 2.9, 6);
        Assert.Equal(("rank 1 was lost: no heartbeat for 3 s", 4242), (status.LastRestart!.Reason, status.LastRestart.LostProcessId));
    }

    [Fact]
    public async Task A_retired_worker_is_no_longer_watched()
    {
        string jobId = Guid.NewGuid().ToString();
        await Grains.GetGrain<IRendezvousGrain>(jobId).OpenAsync(RendezvousRules.Fixed(Job.Workers));
        var worker = Grains.GetGrain<IWorkerGrain>(Guid.NewGuid().ToString("N"));
        await worker.WatchAsync(new WatchedWorker { JobId = jobId, Epoch = 1, Rank = 0, ProcessId = 1, HeartbeatTimeout = TimeSpan.FromMilliseconds(300) });
        await worker.RetireAsync();

        await Task.Delay(1000);
        Assert.Equal(1, (await Grains.GetGrain<IJobGrain>(jobId).GetStatusAsync()).Epoch);
    }
}
