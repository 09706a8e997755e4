using Dtrain.Collectives;
using Dtrain.Collectives.Transports.InProcess;

namespace Dtrain.Tests.Collectives;

/// <summary>Ranks that disagree fail with a message naming both sides; nothing waits forever.</summary>
public class CollectiveSafetyTests
{
    private static readonly CommunicatorOptions ShortTimeout = new() { Timeout = TimeSpan.FromMilliseconds(300) };

    [Fact]
    public async Task Different_operations_on_two_ranks_raise_a_mismatch_naming_both()
    {
        var group = InProcessGroup.Create(2, ShortTimeout);
        var reduce = group[0].AllReduceAsync<float>(new float[10]);
        var gather = group[1].AllGatherAsync<float>(new float[5], new float[10]);

        var error = await Assert.ThrowsAsync<CollectiveMismatchException>(() => reduce);
        Assert.Equal("collective mismatch: rank 0 is in all_reduce #1 of 10 float32 but rank 1 sent all_gather #1 of 10 float32", error.Message);
        await Assert.ThrowsAnyAsync<CollectiveException>(() => gather);
    }

    [Fact]
    public async Task Different_sizes_or_types_raise_a_mismatch()
    {
        var group = InProcessGroup.Create(2, ShortTimeout);
        var a = group[0].AllReduceAsync<float>(new float[10]);
        var b = group[1].AllReduceAsync<float>(new float[12]);
        var error = await Assert.ThrowsAsync<CollectiveMismatchException>(() => a);
        Assert.Contains("all_reduce #1 of 10 float32 but rank 1 sent all_reduce #1 of 12 float32", error.Message);
        await Assert.ThrowsAnyAsync<CollectiveException>(() => b);

        group = InProcessGroup.Create(2, ShortTimeout);
        var c = group[0].BroadcastAsync<double>(new double[4]);
        var d = group[1].BroadcastAsync<long>(new long[4]);
        var typed = await Assert.ThrowsAsync<CollectiveMismatchException>(() => d);
        Assert.Contains("rank 1 is in broadcast #1 of 4 int64 but rank 0 sent broadcast #1 of 4 float64", typed.Message);
        await c;
    }

    [Fact]
    public async Task A_rank_that_is_one_collective_ahead_is_caught_by_the_sequence_number()
    {
        // The sequence number catches this as soon as each message arrives, so the timeout only bounds a failure: a
        // short one could run out on a loaded machine before rank 1's task even starts.
        var group = InProcessGroup.Create(2, new CommunicatorOptions { Timeout = TimeSpan.FromSeconds(30) });
        // Rank 1 runs a broadcast that rank 0 skipped (rank 1 is its root, so it only sends), then the all-reduce.
        var rank1 = Task.Run(async () =>
        {
            await group[1].BroadcastAsync<float>(new float[3], root: 1);
            await group[1].AllReduceAsync<float>(new float[3]);
        });
        var rank0 = group[0].AllReduceAsync<float>(new float[3]);

        var behind = await Assert.ThrowsAsync<CollectiveMismatchException>(() => rank0);
        Assert.Contains("rank 0 is in all_reduce #1 of 3 float32 but rank 1 sent broadcast #1 of 3 float32", behind.Message);
        var ahead = await Assert.ThrowsAsync<CollectiveMismatchException>(() => rank1);
        Assert.Contains("rank 1 is in all_reduce #2 of 3 float32 but rank 0 sent all_reduce #1 of 3 float32", ahead.Message);
    }

    [Fact]
    public async Task A_peer_that_never_comes_times_out_with_a_message_naming_it()
    {
        var group = InProcessGroup.Create(3, ShortTimeout);
        var error = await Assert.ThrowsAsync<CollectiveTimeoutException>(() => group[0].BarrierAsync());
        Assert.Matches(@"^rank 0 waited 0\.3 s for rank \d in barrier #1 of 0 byte$", error.Message);
    }

    [Fact]
    public async Task Cancellation_is_honoured_and_is_not_reported_as_a_timeout()
    {
        var group = InProcessGroup.Create(2);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => group[0].AllReduceAsync<float>(new float[100], ct: cancel.Token));
    }

    [Fact]
    public async Task Bad_arguments_fail_before_anything_is_sent()
    {
        var group = InProcessGroup.Create(2);
        var average = await Assert.ThrowsAsync<ArgumentException>(() => group[0].AllReduceAsync<long>(new long[2], ReduceOp.Average));
        Assert.Equal("average is defined for floating-point elements only, not int64", average.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => group[0].BroadcastAsync<float>(new float[1], root: 2));
        await Assert.ThrowsAsync<ArgumentException>(() => group[0].ReduceScatterAsync<float>(new float[5], new float[2]));
        // Nothing was sent: a correct collective still works afterwards.
        await Conformance.OnAllRanks(group, comm => comm.AllReduceAsync<float>(new float[4]));
    }
}
