namespace Dtrain.Coordinator.Grains;

public sealed class WorkerGrain : Grain, IWorkerGrain
{
    private WatchedWorker? watched;
    private DateTime heardAt;
    private IGrainTimer? timer;

    public Task WatchAsync(WatchedWorker worker)
    {
        watched = worker;
        heardAt = DateTime.UtcNow;
        // Checked a few times per timeout, so a silent worker is found at most a quarter timeout late.
        var period = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(1).Ticks, worker.HeartbeatTimeout.Ticks / 4));
        timer ??= this.RegisterGrainTimer(CheckAsync, period, period);
        return Task.CompletedTask;
    }

    public Task HeartbeatAsync()
    {
        heardAt = DateTime.UtcNow;
        return Task.CompletedTask;
    }

    public Task RetireAsync()
    {
        timer?.Dispose();
        timer = null;
        watched = null;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    private async Task CheckAsync(CancellationToken ct)
    {
        if (watched is not { } worker || DateTime.UtcNow - heardAt <= worker.HeartbeatTimeout) return;
        await RetireAsync();
        await GrainFactory.GetGrain<IJobGrain>(worker.JobId).EndEpochAsync(worker.Epoch,
            $"rank {worker.Rank} was lost: no heartbeat for {worker.HeartbeatTimeout.TotalSeconds:0.#} s", worker.ProcessId);
    }
}
