using Dtrain.Collectives;
using Dtrain.Collectives.Transports.InProcess;

namespace Dtrain.Tests.Collectives;

public class InProcessRingAllReduceTests
{
    public static TheoryData<int, int, ReduceOp> Cases()
    {
        var cases = new TheoryData<int, int, ReduceOp>();
        foreach (int ranks in new[] { 1, 2, 3 })
            foreach (int length in new[] { 0, 1, 2, 7, 1000, 100_003 })
                foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Average })
                    cases.Add(ranks, length, op);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Every_rank_gets_the_oracle_result_bitwise(int ranks, int length, ReduceOp op)
    {
        var inputs = RingOracle.RandomInputs(ranks, length, seed: 17 * ranks + length);
        var expected = RingOracle.Reduce(inputs, op == ReduceOp.Average);
        var buffers = inputs.Select(b => (float[])b.Clone()).ToArray();

        var group = InProcessGroup.Create(ranks);
        await Task.WhenAll(group.Select(comm => Task.Run(() => comm.AllReduceAsync(buffers[comm.Rank], op))));

        foreach (var buffer in buffers)
        {
            Assert.Equal(expected, buffer);
        }
    }

    [Fact]
    public async Task Ring_sum_is_close_to_the_exact_sum()
    {
        // Guards the oracle itself: it must be a sum, whatever order it adds in.
        var inputs = RingOracle.RandomInputs(3, 50, seed: 5);
        var buffers = inputs.Select(b => (float[])b.Clone()).ToArray();
        var group = InProcessGroup.Create(3);
        await Task.WhenAll(group.Select(comm => Task.Run(() => comm.AllReduceAsync(buffers[comm.Rank], ReduceOp.Sum))));
        for (int i = 0; i < 50; i++)
        {
            double exact = inputs.Sum(rank => (double)rank[i]);
            Assert.Equal(exact, buffers[0][i], 1e-3);
        }
    }

    [Fact]
    public async Task A_message_of_the_wrong_length_is_an_error_not_a_truncation()
    {
        var group = InProcessGroup.Create(2);
        await group[0].SendAsync(1, new byte[8]);
        var error = await Assert.ThrowsAsync<CollectiveException>(() => group[1].ReceiveAsync(0, new byte[4]).AsTask());
        Assert.Contains("expected a message of 4 bytes from rank 0 but got 8", error.Message);
    }
}
