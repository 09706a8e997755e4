using Dtrain.Telemetry;

namespace Dtrain.Coordinator.Grains;

public sealed class RendezvousGrain : Grain, IRendezvousGrain
{
    private readonly List<(string WorkerId, WorkerRegistration Registration)> joined = [];
    private int worldSize;
    private long epoch = 1;

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
        if (registration.RequestedRank is { } requested)
        {
            if (requested < 0 || requested >= worldSize)
            {
                return Task.FromResult(JoinOutcome.Refused($"rank {requested} is not a rank of a job of {worldSize} workers"));
            }
            if (joined.Any(w => w.Registration.RequestedRank == requested))
            {
                return Task.FromResult(JoinOutcome.Refused($"rank {requested} is already taken"));
            }
        }
        string workerId = Guid.NewGuid().ToString("N");
        joined.Add((workerId, registration));
        DtrainMetrics.RegisteredWorkers.Set(joined.Count);
        return Task.FromResult(JoinOutcome.Joined(workerId));
    }

    public Task<RankAssignment?> GetAssignmentAsync(string workerId)
    {
        int index = joined.FindIndex(w => w.WorkerId == workerId);
        if (index < 0)
        {
            throw new ArgumentException($"unknown worker id '{workerId}'", nameof(workerId));
        }
        if (joined.Count < worldSize)
        {
            return Task.FromResult<RankAssignment?>(null);
        }
        var ranks = Ranks();
        var addresses = new string[worldSize];
        for (int i = 0; i < worldSize; i++) addresses[ranks[i]] = joined[i].Registration.PeerAddress;
        return Task.FromResult<RankAssignment?>(new RankAssignment { Rank = ranks[index], Epoch = epoch, PeerAddresses = addresses });
    }

    /// <summary>
    /// Each joined worker's rank: the one it asked for (a launcher such as mpiexec already numbered it), else
    /// the lowest rank nobody asked for, in join order.
    /// </summary>
    private int[] Ranks()
    {
        var free = new Queue<int>(Enumerable.Range(0, worldSize).Except(joined.Select(w => w.Registration.RequestedRank ?? -1)));
        return joined.Select(w => w.Registration.RequestedRank ?? free.Dequeue()).ToArray();
    }

    public Task<int> GetJoinedCountAsync() => Task.FromResult(joined.Count);

    public Task<long> NewEpochAsync()
    {
        joined.Clear();
        DtrainMetrics.RegisteredWorkers.Set(0);
        return Task.FromResult(++epoch);
    }
}
