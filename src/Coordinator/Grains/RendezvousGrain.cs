using Dtrain.Telemetry;

namespace Dtrain.Coordinator.Grains;

public sealed class RendezvousGrain : Grain, IRendezvousGrain
{
    private const long FirstEpoch = 1;
    private readonly List<(string WorkerId, WorkerRegistration Registration)> joined = [];
    private int worldSize;

    public Task OpenAsync(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (worldSize != 0 && worldSize != size)
        {
            throw new InvalidOperationException($"the rendezvous is already open for {worldSize} workers, not {size}");
        }
        worldSize = size;
        DtrainMetrics.WorldSize.Set(size);
        return Task.CompletedTask;
    }

    public Task<JoinOutcome> JoinAsync(WorkerRegistration registration)
    {
        if (worldSize == 0)
        {
            return Task.FromResult(JoinOutcome.Refused("the job's rendezvous is not open yet"));
        }
        if (joined.Count == worldSize)
        {
            return Task.FromResult(JoinOutcome.Refused($"the job already has its {worldSize} workers"));
        }
        string workerId = Guid.NewGuid().ToString("N");
        joined.Add((workerId, registration));
        DtrainMetrics.RegisteredWorkers.Set(joined.Count);
        return Task.FromResult(JoinOutcome.Joined(workerId));
    }

    public Task<RankAssignment?> GetAssignmentAsync(string workerId)
    {
        int rank = joined.FindIndex(w => w.WorkerId == workerId);
        if (rank < 0)
        {
            throw new ArgumentException($"unknown worker id '{workerId}'", nameof(workerId));
        }
        RankAssignment? assignment = joined.Count < worldSize ? null : new RankAssignment
        {
            Rank = rank,
            Epoch = FirstEpoch,
            PeerAddresses = joined.Select(w => w.Registration.PeerAddress).ToArray(),
        };
        return Task.FromResult(assignment);
    }

    public Task<int> GetJoinedCountAsync() => Task.FromResult(joined.Count);
}
