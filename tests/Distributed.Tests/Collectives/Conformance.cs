using Dtrain.Collectives;

namespace Dtrain.Tests.Collectives;

/// <summary>
/// Every collective, run on all ranks of a group at once and compared with the single-process <see cref="Oracle"/>,
/// bitwise. Written once and used for every transport.
/// </summary>
internal static class Conformance
{
    public static readonly int[] Lengths = [0, 1, 7, 1000];

    /// <summary>Runs <paramref name="body"/> on every rank concurrently, one thread each, as separate processes would.</summary>
    public static Task OnAllRanks(IReadOnlyList<Communicator> group, Func<Communicator, Task> body) =>
        Task.WhenAll(group.Select(comm => Task.Run(() => body(comm))));

    public static async Task AllReduce<T>(IReadOnlyList<Communicator> group, int length, ReduceOp op, int seed) where T : unmanaged
    {
        var inputs = Oracle.RandomInputs<T>(group.Count, length, seed);
        var algorithm = group[0].Options.AllReduceAlgorithm ?? throw new InvalidOperationException("choose the algorithm to compare with");
        var expected = algorithm == AllReduceAlgorithm.Ring ? Oracle.RingAllReduce(inputs, op) : Oracle.RecursiveDoublingAllReduce(inputs, op);
        var buffers = inputs.Select(x => (T[])x.Clone()).ToArray();
        await OnAllRanks(group, comm => comm.AllReduceAsync<T>(buffers[comm.Rank], op));
        foreach (var buffer in buffers) Assert.Equal(expected, buffer);
    }

    public static async Task AllGather<T>(IReadOnlyList<Communicator> group, int length, int seed) where T : unmanaged
    {
        var inputs = Oracle.RandomInputs<T>(group.Count, length, seed);
        var expected = inputs.SelectMany(x => x).ToArray();
        var outputs = group.Select(_ => new T[expected.Length]).ToArray();
        await OnAllRanks(group, comm => comm.AllGatherAsync<T>(inputs[comm.Rank], outputs[comm.Rank]));
        foreach (var output in outputs) Assert.Equal(expected, output);
    }

    /// <summary>Rank r contributes r * length + 1 elements: sizes differ, and none is zero.</summary>
    public static async Task AllGatherVariable<T>(IReadOnlyList<Communicator> group, int length, int seed) where T : unmanaged
    {
        var counts = Enumerable.Range(0, group.Count).Select(r => r * length + 1).ToArray();
        var random = Oracle.RandomInputs<T>(1, counts.Sum(), seed)[0];
        var inputs = counts.Select((c, r) => random.Skip(counts.Take(r).Sum()).Take(c).ToArray()).ToArray();
        var outputs = group.Select(_ => new T[random.Length]).ToArray();
        await OnAllRanks(group, comm => comm.AllGatherAsync<T>(inputs[comm.Rank], outputs[comm.Rank], counts));
        foreach (var output in outputs) Assert.Equal(random, output);
    }

    public static async Task ReduceScatter<T>(IReadOnlyList<Communicator> group, int length, ReduceOp op, int seed) where T : unmanaged
    {
        int n = group.Count;
        var inputs = Oracle.RandomInputs<T>(n, n * length, seed);
        var untouched = inputs.Select(x => (T[])x.Clone()).ToArray();
        var expected = Oracle.RingAllReduce(inputs, op);
        var outputs = group.Select(_ => new T[length]).ToArray();
        await OnAllRanks(group, comm => comm.ReduceScatterAsync<T>(inputs[comm.Rank], outputs[comm.Rank], op));
        for (int r = 0; r < n; r++)
        {
            Assert.Equal(expected.Skip(r * length).Take(length), outputs[r]);
            Assert.Equal(untouched[r], inputs[r]);
        }
    }

    public static async Task Broadcast<T>(IReadOnlyList<Communicator> group, int length, int root, int seed) where T : unmanaged
    {
        var inputs = Oracle.RandomInputs<T>(group.Count, length, seed);
        var expected = (T[])inputs[root].Clone();
        await OnAllRanks(group, comm => comm.BroadcastAsync<T>(inputs[comm.Rank], root));
        foreach (var buffer in inputs) Assert.Equal(expected, buffer);
    }

    public static async Task Reduce<T>(IReadOnlyList<Communicator> group, int length, int root, ReduceOp op, int seed) where T : unmanaged
    {
        var inputs = Oracle.RandomInputs<T>(group.Count, length, seed);
        var untouched = inputs.Select(x => (T[])x.Clone()).ToArray();
        var expected = Oracle.TreeReduce(inputs, root, op);
        await OnAllRanks(group, comm => comm.ReduceAsync<T>(inputs[comm.Rank], root, op));
        for (int r = 0; r < group.Count; r++) Assert.Equal(r == root ? expected : untouched[r], inputs[r]);
    }

    /// <summary>No rank leaves the barrier before the last one has entered it.</summary>
    public static async Task Barrier(IReadOnlyList<Communicator> group)
    {
        int entered = 0;
        var enteredWhenLeaving = new int[group.Count];
        await OnAllRanks(group, async comm =>
        {
            await Task.Delay(20 * comm.Rank);
            Interlocked.Increment(ref entered);
            await comm.BarrierAsync();
            enteredWhenLeaving[comm.Rank] = Volatile.Read(ref entered);
        });
        Assert.All(enteredWhenLeaving, count => Assert.Equal(group.Count, count));
    }

    /// <summary>Every rank sends to its right neighbour and receives from its left, twice, with different sizes.</summary>
    public static async Task SendReceive(IReadOnlyList<Communicator> group, int seed)
    {
        int n = group.Count;
        if (n == 1) return;
        var first = Oracle.RandomInputs<float>(n, 5, seed);
        var second = Oracle.RandomInputs<long>(n, 3, seed + 1);
        var got = new (float[], long[])[n];
        await OnAllRanks(group, async comm =>
        {
            int right = (comm.Rank + 1) % n, left = (comm.Rank + n - 1) % n;
            var send = Task.WhenAll(comm.SendAsync<float>(right, first[comm.Rank]), comm.SendAsync<long>(right, second[comm.Rank]));
            var a = new float[5];
            var b = new long[3];
            await comm.ReceiveAsync<float>(left, a);
            await comm.ReceiveAsync<long>(left, b);
            await send;
            got[comm.Rank] = (a, b);
        });
        for (int r = 0; r < n; r++)
        {
            Assert.Equal(first[(r + n - 1) % n], got[r].Item1);
            Assert.Equal(second[(r + n - 1) % n], got[r].Item2);
        }
    }

    /// <summary>Split by rank parity, ranked in reverse; each sub-group all-reduces its own data at the same time.</summary>
    public static async Task SplitAndReduceInSubgroups(IReadOnlyList<Communicator> group, int seed)
    {
        int n = group.Count;
        var inputs = Oracle.RandomInputs<float>(n, 10, seed);
        var original = inputs.Select(x => (float[])x.Clone()).ToArray();
        var subRanks = new int[n];
        var subSizes = new int[n];
        await OnAllRanks(group, async comm =>
        {
            await using var sub = (await comm.SplitAsync(comm.Rank % 2, -comm.Rank))!;
            subRanks[comm.Rank] = sub.Rank;
            subSizes[comm.Rank] = sub.Size;
            await sub.AllReduceAsync<float>(inputs[comm.Rank], ReduceOp.Sum);
            await comm.BarrierAsync();   // the parent still works after the split
        });
        for (int color = 0; color < Math.Min(2, n); color++)
        {
            // Members by descending world rank: the key was -rank.
            var members = Enumerable.Range(0, n).Where(r => r % 2 == color).OrderByDescending(r => r).ToArray();
            var memberInputs = members.Select(m => original[m]).ToArray();
            var expected = group[0].Options.AllReduceAlgorithm == AllReduceAlgorithm.Ring
                ? Oracle.RingAllReduce(memberInputs, ReduceOp.Sum)
                : Oracle.RecursiveDoublingAllReduce(memberInputs, ReduceOp.Sum);
            for (int i = 0; i < members.Length; i++)
            {
                Assert.Equal(i, subRanks[members[i]]);
                Assert.Equal(members.Length, subSizes[members[i]]);
                Assert.Equal(expected, inputs[members[i]]);
            }
        }
    }
}
