using System.Diagnostics;
using Dtrain.Collectives;

namespace Dtrain.Tests.Collectives;

/// <summary>
/// Every collective, checked on one rank: every rank generates all ranks' inputs from the same seed, runs the
/// collective with its own, and compares its own result with the single-process <see cref="Oracle"/>, bit for
/// bit. Written once for every transport: the xunit tests run these on all ranks of an in-process or gRPC group
/// at once (<see cref="Conformance"/>), and tests/MpiHarness runs them under mpiexec, one rank per process.
/// </summary>
internal static class RankChecks
{
    public static readonly int[] Lengths = [0, 1, 7, 1000];

    public static async Task AllReduce<T>(Communicator comm, ReduceOp op, int seed, params int[] lengths) where T : unmanaged
    {
        foreach (int length in lengths)
        {
            var inputs = Oracle.RandomInputs<T>(comm.Size, length, seed + length);
            var expected = comm.Options.AllReduceAlgorithm == AllReduceAlgorithm.Ring
                ? Oracle.RingAllReduce(inputs, op)
                : Oracle.RecursiveDoublingAllReduce(inputs, op);
            var mine = (T[])inputs[comm.Rank].Clone();
            await comm.AllReduceAsync<T>(mine, op);
            Require.Bitwise<T>(expected, mine, $"length {length}");
        }
    }

    public static async Task AllGather<T>(Communicator comm, int seed) where T : unmanaged
    {
        foreach (int length in Lengths)
        {
            var inputs = Oracle.RandomInputs<T>(comm.Size, length, seed + length);
            var output = new T[comm.Size * length];
            await comm.AllGatherAsync<T>(inputs[comm.Rank], output);
            Require.Bitwise<T>(inputs.SelectMany(x => x).ToArray(), output, $"length {length}");
        }
    }

    /// <summary>Rank r contributes r * length + 1 elements: sizes differ, and none is zero.</summary>
    public static async Task AllGatherVariable<T>(Communicator comm, int seed) where T : unmanaged
    {
        foreach (int length in Lengths)
        {
            var counts = Enumerable.Range(0, comm.Size).Select(r => r * length + 1).ToArray();
            var all = Oracle.RandomInputs<T>(1, counts.Sum(), seed + length)[0];
            var mine = all.AsMemory(counts.Take(comm.Rank).Sum(), counts[comm.Rank]);
            var output = new T[all.Length];
            await comm.AllGatherAsync<T>(mine, output, counts);
            Require.Bitwise<T>(all, output, $"length {length}");
        }
    }

    public static async Task ReduceScatter<T>(Communicator comm, ReduceOp op, int seed) where T : unmanaged
    {
        foreach (int length in Lengths)
        {
            var inputs = Oracle.RandomInputs<T>(comm.Size, comm.Size * length, seed + length);
            var expected = Oracle.RingAllReduce(inputs, op).AsSpan(comm.Rank * length, length).ToArray();
            var mine = (T[])inputs[comm.Rank].Clone();
            var output = new T[length];
            await comm.ReduceScatterAsync<T>(mine, output, op);
            Require.Bitwise<T>(expected, output, $"length {length}");
            Require.Bitwise<T>(inputs[comm.Rank], mine, $"length {length}, the input");
        }
    }

    public static async Task BroadcastFromEveryRoot<T>(Communicator comm, int seed) where T : unmanaged
    {
        foreach (int length in Lengths)
        {
            for (int root = 0; root < comm.Size; root++)
            {
                var inputs = Oracle.RandomInputs<T>(comm.Size, length, seed + length + root);
                var mine = (T[])inputs[comm.Rank].Clone();
                await comm.BroadcastAsync<T>(mine, root);
                Require.Bitwise<T>(inputs[root], mine, $"length {length}, root {root}");
            }
        }
    }

    /// <summary>Only the root's buffer changes; the others keep their input.</summary>
    public static async Task ReduceToEveryRoot<T>(Communicator comm, ReduceOp op, int seed) where T : unmanaged
    {
        foreach (int length in Lengths)
        {
            for (int root = 0; root < comm.Size; root++)
            {
                var inputs = Oracle.RandomInputs<T>(comm.Size, length, seed + length + root);
                var expected = comm.Rank == root ? Oracle.TreeReduce(inputs, root, op) : inputs[comm.Rank];
                var mine = (T[])inputs[comm.Rank].Clone();
                await comm.ReduceAsync<T>(mine, root, op);
                Require.Bitwise<T>(expected, mine, $"length {length}, root {root}");
            }
        }
    }

    /// <summary>
    /// No rank leaves the barrier before the last one has entered it. Ranks enter 30 ms apart; the times are read
    /// from the machine-wide monotonic clock (all ranks run on this machine) and exchanged afterwards.
    /// </summary>
    public static async Task Barrier(Communicator comm)
    {
        await Task.Delay(30 * comm.Rank);
        long entered = Stopwatch.GetTimestamp();
        await comm.BarrierAsync();
        long left = Stopwatch.GetTimestamp();
        var allEntered = new long[comm.Size];
        await comm.AllGatherAsync<long>(new[] { entered }, allEntered);
        Require.That(left >= allEntered.Max(), $"left the barrier {Stopwatch.GetElapsedTime(left, allEntered.Max()).TotalMilliseconds:0.#} ms before the last rank entered it");
    }

    /// <summary>Every rank sends to its right neighbour and receives from its left, twice, with different sizes and types.</summary>
    public static async Task SendReceive(Communicator comm, int seed)
    {
        if (comm.Size == 1) return;   // a rank has no neighbour but itself
        int n = comm.Size, right = (comm.Rank + 1) % n, left = (comm.Rank + n - 1) % n;
        var first = Oracle.RandomInputs<float>(n, 5, seed);
        var second = Oracle.RandomInputs<long>(n, 3, seed + 1);
        var send = Task.WhenAll(comm.SendAsync<float>(right, first[comm.Rank]), comm.SendAsync<long>(right, second[comm.Rank]));
        var a = new float[5];
        var b = new long[3];
        await comm.ReceiveAsync<float>(left, a);
        await comm.ReceiveAsync<long>(left, b);
        await send;
        Require.Bitwise<float>(first[left], a, "first message");
        Require.Bitwise<long>(second[left], b, "second message");
    }

    /// <summary>Split by rank parity, ranked in reverse; each sub-group all-reduces its own data at the same time.</summary>
    public static async Task SplitAndReduceInSubgroups(Communicator comm, int seed)
    {
        var inputs = Oracle.RandomInputs<float>(comm.Size, 10, seed);
        await using (var sub = (await comm.SplitAsync(comm.Rank % 2, -comm.Rank))!)
        {
            // Members by descending world rank: the key was -rank.
            var members = Enumerable.Range(0, comm.Size).Where(r => r % 2 == comm.Rank % 2).OrderByDescending(r => r).ToArray();
            Require.That(sub.Rank == Array.IndexOf(members, comm.Rank) && sub.Size == members.Length,
                $"rank {sub.Rank} of {sub.Size} in the sub-group, expected {Array.IndexOf(members, comm.Rank)} of {members.Length}");
            var memberInputs = members.Select(m => inputs[m]).ToArray();
            var expected = comm.Options.AllReduceAlgorithm == AllReduceAlgorithm.Ring
                ? Oracle.RingAllReduce(memberInputs, ReduceOp.Sum)
                : Oracle.RecursiveDoublingAllReduce(memberInputs, ReduceOp.Sum);
            var mine = (float[])inputs[comm.Rank].Clone();
            await sub.AllReduceAsync<float>(mine, ReduceOp.Sum);
            Require.Bitwise<float>(expected, mine, "sub-group all_reduce");
        }
        await comm.BarrierAsync();   // the parent still works after the split
    }
}
