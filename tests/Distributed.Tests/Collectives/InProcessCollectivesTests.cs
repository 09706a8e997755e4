using Dtrain.Collectives;
using Dtrain.Collectives.Transports.InProcess;

namespace Dtrain.Tests.Collectives;

/// <summary>Every operation, element type, world size 1..4 and awkward length, over the in-process transport.</summary>
public class InProcessCollectivesTests
{
    public static readonly int[] WorldSizes = [1, 2, 3, 4];

    private static IReadOnlyList<Communicator> Group(int size, AllReduceAlgorithm algorithm = AllReduceAlgorithm.Ring) =>
        InProcessGroup.Create(size, new CommunicatorOptions { AllReduceAlgorithm = algorithm, Timeout = TimeSpan.FromSeconds(30) });

    public static TheoryData<int, int, ReduceOp, AllReduceAlgorithm> AllReduceCases()
    {
        var cases = new TheoryData<int, int, ReduceOp, AllReduceAlgorithm>();
        foreach (int size in WorldSizes)
            foreach (int length in Conformance.Lengths)
                foreach (var op in Enum.GetValues<ReduceOp>())
                    foreach (var algorithm in Enum.GetValues<AllReduceAlgorithm>())
                        cases.Add(size, length, op, algorithm);
        return cases;
    }

    public static TheoryData<int, int> SizeAndLength()
    {
        var cases = new TheoryData<int, int>();
        foreach (int size in WorldSizes)
            foreach (int length in Conformance.Lengths)
                cases.Add(size, length);
        return cases;
    }

    public static TheoryData<int> Sizes() => new(WorldSizes);

    [Theory]
    [MemberData(nameof(AllReduceCases))]
    public async Task All_reduce_float32(int size, int length, ReduceOp op, AllReduceAlgorithm algorithm) =>
        await Conformance.AllReduce<float>(Group(size, algorithm), length, op, seed: size * 100 + length);

    [Theory]
    [MemberData(nameof(AllReduceCases))]
    public async Task All_reduce_bfloat16(int size, int length, ReduceOp op, AllReduceAlgorithm algorithm) =>
        await Conformance.AllReduce<BFloat16>(Group(size, algorithm), length, op, seed: size * 100 + length);

    [Theory]
    [MemberData(nameof(AllReduceCases))]
    public async Task All_reduce_float64_and_int64(int size, int length, ReduceOp op, AllReduceAlgorithm algorithm)
    {
        await Conformance.AllReduce<double>(Group(size, algorithm), length, op, seed: size * 100 + length);
        if (op != ReduceOp.Average)
        {
            await Conformance.AllReduce<long>(Group(size, algorithm), length, op, seed: size * 100 + length);
        }
    }

    [Theory]
    [MemberData(nameof(SizeAndLength))]
    public async Task All_gather_equal_and_variable_sizes(int size, int length)
    {
        await Conformance.AllGather<float>(Group(size), length, seed: length);
        await Conformance.AllGather<BFloat16>(Group(size), length, seed: length);
        await Conformance.AllGatherVariable<long>(Group(size), length, seed: length);
    }

    [Theory]
    [MemberData(nameof(SizeAndLength))]
    public async Task Reduce_scatter(int size, int length)
    {
        foreach (var op in Enum.GetValues<ReduceOp>())
        {
            await Conformance.ReduceScatter<float>(Group(size), length, op, seed: length);
        }
        await Conformance.ReduceScatter<long>(Group(size), length, ReduceOp.Sum, seed: length);
        await Conformance.ReduceScatter<BFloat16>(Group(size), length, ReduceOp.Average, seed: length);
    }

    [Theory]
    [MemberData(nameof(SizeAndLength))]
    public async Task Broadcast_and_reduce_from_every_root(int size, int length)
    {
        for (int root = 0; root < size; root++)
        {
            await Conformance.Broadcast<double>(Group(size), length, root, seed: root);
            await Conformance.Reduce<float>(Group(size), length, root, ReduceOp.Sum, seed: root);
            await Conformance.Reduce<BFloat16>(Group(size), length, root, ReduceOp.Average, seed: root);
            await Conformance.Reduce<long>(Group(size), length, root, ReduceOp.Max, seed: root);
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task Barrier_send_receive_and_split(int size)
    {
        await Conformance.Barrier(Group(size));
        await Conformance.SendReceive(Group(size), seed: size);
        await Conformance.SplitAndReduceInSubgroups(Group(size, AllReduceAlgorithm.Ring), seed: size);
        await Conformance.SplitAndReduceInSubgroups(Group(size, AllReduceAlgorithm.RecursiveDoubling), seed: size);
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

        var group = InProcessGroup.Create(3);
        await Conformance.OnAllRanks(group, async comm =>
        {
            await comm.AllReduceAsync<float>(small[comm.Rank]);
            await comm.AllReduceAsync<float>(large[comm.Rank]);
        });

        Assert.All(small, buffer => Assert.Equal(expectedSmall, buffer));
        Assert.All(large, buffer => Assert.Equal(expectedLarge, buffer));
    }
}
