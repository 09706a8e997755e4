using Dtrain.Collectives;
using Dtrain.Collectives.Transports.InProcess;
using static Dtrain.Tests.Collectives.Conformance;

namespace Dtrain.Tests.Collectives;

/// <summary>Every operation, element type, world size 1..4 and awkward length (<see cref="RankChecks.Lengths"/>), in-process.</summary>
public class InProcessCollectivesTests
{
    private static IReadOnlyList<Communicator> Group(int size, AllReduceAlgorithm algorithm = AllReduceAlgorithm.Ring) =>
        InProcessGroup.Create(size, new CommunicatorOptions { AllReduceAlgorithm = algorithm, Timeout = TimeSpan.FromSeconds(30) });

    public static TheoryData<int, ReduceOp, AllReduceAlgorithm> AllReduceCases()
    {
        var cases = new TheoryData<int, ReduceOp, AllReduceAlgorithm>();
        foreach (int size in new[] { 1, 2, 3, 4 })
            foreach (var op in Enum.GetValues<ReduceOp>())
                foreach (var algorithm in new[] { AllReduceAlgorithm.Ring, AllReduceAlgorithm.RecursiveDoubling })
                    cases.Add(size, op, algorithm);
        return cases;
    }

    public static TheoryData<int> Sizes() => new(1, 2, 3, 4);

    [Theory]
    [MemberData(nameof(AllReduceCases))]
    public async Task All_reduce_of_every_type(int size, ReduceOp op, AllReduceAlgorithm algorithm)
    {
        var group = Group(size, algorithm);
        await OnAllRanks(group, comm => RankChecks.AllReduce<float>(comm, op, 1, RankChecks.Lengths));
        await OnAllRanks(group, comm => RankChecks.AllReduce<BFloat16>(comm, op, 2, RankChecks.Lengths));
        await OnAllRanks(group, comm => RankChecks.AllReduce<double>(comm, op, 3, RankChecks.Lengths));
        if (op != ReduceOp.Average)
        {
            await OnAllRanks(group, comm => RankChecks.AllReduce<long>(comm, op, 4, RankChecks.Lengths));
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task All_gather_equal_and_variable_sizes(int size)
    {
        var group = Group(size);
        await OnAllRanks(group, comm => RankChecks.AllGather<float>(comm, 5));
        await OnAllRanks(group, comm => RankChecks.AllGather<BFloat16>(comm, 6));
        await OnAllRanks(group, comm => RankChecks.AllGatherVariable<long>(comm, 7));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Reduce_scatter(int size)
    {
        var group = Group(size);
        foreach (var op in Enum.GetValues<ReduceOp>())
        {
            await OnAllRanks(group, comm => RankChecks.ReduceScatter<float>(comm, op, 8));
        }
        await OnAllRanks(group, comm => RankChecks.ReduceScatter<long>(comm, ReduceOp.Sum, 9));
        await OnAllRanks(group, comm => RankChecks.ReduceScatter<BFloat16>(comm, ReduceOp.Average, 10));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Broadcast_and_reduce_from_every_root(int size)
    {
        var group = Group(size);
        await OnAllRanks(group, comm => RankChecks.BroadcastFromEveryRoot<double>(comm, 11));
        await OnAllRanks(group, comm => RankChecks.ReduceToEveryRoot<float>(comm, ReduceOp.Sum, 12));
        await OnAllRanks(group, comm => RankChecks.ReduceToEveryRoot<BFloat16>(comm, ReduceOp.Average, 13));
        await OnAllRanks(group, comm => RankChecks.ReduceToEveryRoot<long>(comm, ReduceOp.Max, 14));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Barrier_send_receive_and_split(int size)
    {
        await OnAllRanks(Group(size), RankChecks.Barrier);
        await OnAllRanks(Group(size), comm => RankChecks.SendReceive(comm, 15));
        await OnAllRanks(Group(size, AllReduceAlgorithm.Ring), comm => RankChecks.SplitAndReduceInSubgroups(comm, 16));
        await OnAllRanks(Group(size, AllReduceAlgorithm.RecursiveDoubling), comm => RankChecks.SplitAndReduceInSubgroups(comm, 17));
    }

    [Fact]
    public async Task The_size_picks_the_algorithm_unless_one_is_forced()
    {
        // With 3 ranks the two algorithms add in different orders, so the result tells which one ran.
        var small = Oracle.RandomInputs<float>(3, 100, seed: 1);
        var large = Oracle.RandomInputs<float>(3, 100_000, seed: 2);
        var expectedSmall = Oracle.RecursiveDoublingAllReduce(small, ReduceOp.Sum);
        var expectedLarge = Oracle.RingAllReduce(large, ReduceOp.Sum);
        Assert.NotEqual(expectedSmall, Oracle.RingAllReduce(small, ReduceOp.Sum));

        await OnAllRanks(InProcessGroup.Create(3), async comm =>
        {
            await comm.AllReduceAsync<float>(small[comm.Rank]);
            await comm.AllReduceAsync<float>(large[comm.Rank]);
        });

        Assert.All(small, buffer => Assert.Equal(expectedSmall, buffer));
        Assert.All(large, buffer => Assert.Equal(expectedLarge, buffer));
    }

    [Fact]
    public async Task Aborting_a_rank_fails_the_peers_waiting_on_it_at_once()
    {
        var group = InProcessGroup.Create(3, new CommunicatorOptions { Timeout = TimeSpan.FromMinutes(5) });
        var waiting = group[0].ReceiveAsync<float>(2, new float[4]);

        group[2].Abort();

        var lost = await Assert.ThrowsAsync<PeerLostException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(2, lost.Peer);
        await Assert.ThrowsAsync<PeerLostException>(() => group[2].SendAsync<float>(1, new float[4]));
    }

    [Fact]
    public async Task The_transport_algorithm_is_refused_by_a_transport_without_its_own_all_reduce()
    {
        var group = InProcessGroup.Create(2, new CommunicatorOptions { AllReduceAlgorithm = AllReduceAlgorithm.Transport });

        var refused = await Assert.ThrowsAsync<NotSupportedException>(() => group[0].AllReduceAsync<float>(new float[4]));
        Assert.Equal("the inproc transport has no all-reduce of its own", refused.Message);
    }
}
