using Dtrain.Collectives;
using Dtrain.Collectives.Transports.Mpi;
using Dtrain.Tests.Collectives;

namespace Dtrain.MpiHarness;

/// <summary>What is particular to the MPI transport: MPI's own all-reduce, the launch environment, and failures.</summary>
internal static class TransportChecks
{
    /// <summary>
    /// MPI_Allreduce against the ring's result: Max and Min do not depend on the order of combination and must
    /// agree bitwise, as must int64 sums; floating-point sums within a relative tolerance, since MPI adds in
    /// an order of its own.
    /// </summary>
    public static async Task NativeAllReduce<T>(MpiCommunicator ring, ReduceOp op, int seed) where T : unmanaged
    {
        bool exact = op is ReduceOp.Max or ReduceOp.Min || typeof(T) == typeof(long);
        foreach (int length in RankChecks.Lengths)
        {
            var inputs = Oracle.RandomInputs<T>(ring.Size, length, seed + length);
            var expected = Oracle.RingAllReduce(inputs, op);
            var mine = (T[])inputs[ring.Rank].Clone();
            await ring.NativeAllReduceAsync<T>(mine, op);
            if (exact)
            {
                Require.Bitwise<T>(expected, mine, $"length {length}");
                continue;
            }
            for (int i = 0; i < length; i++)
            {
                double got = Convert.ToDouble(mine[i]), want = Convert.ToDouble(expected[i]);
                double scale = inputs.Sum(x => Math.Abs(Convert.ToDouble(x[i])));
                Require.That(Math.Abs(got - want) <= 1e-6 * scale,
                    $"length {length}: element {i} is {got}, the ring gave {want} (more than 1e-6 x {scale:0.###} apart)");
            }
        }
    }

    /// <summary>Hydra's PMI_RANK / PMI_SIZE name the same rank and size as MPI itself.</summary>
    public static Task EnvironmentMatchesMpi(Communicator world)
    {
        var environment = MpiEnvironment.Current;
        Require.That(environment == new MpiEnvironment("hydra", world.Rank, world.Size),
            $"the environment says {environment}, MPI says rank {world.Rank} of {world.Size}");
        return Task.CompletedTask;
    }

    /// <summary>.NET raises NullReferenceException through SIGSEGV: with UCX's handler in place the process would die here.</summary>
    public static Task NullReferenceIsAnException()
    {
        string? nothing = Environment.GetEnvironmentVariable("DTRAIN_HARNESS_UNSET_VARIABLE");
        try
        {
            _ = nothing!.Length;
        }
        catch (NullReferenceException)
        {
            return Task.CompletedTask;
        }
        throw new CheckFailedException("no NullReferenceException was raised");
    }

    /// <summary>Ranks 0 and 1, in a sub-group of their own, all-reduce different types: both fail, rank 0 naming both sides.</summary>
    public static Task Mismatch(Communicator world) => OnPairAsync(world,
        pair => Require.ThrowsAsync<CollectiveMismatchException>(() => pair.AllReduceAsync<float>(new float[8]),
            "^collective mismatch: rank 0 is in all_reduce #1 of 8 float32 but rank 1 sent all_reduce #1 of 8 float64$"),
        pair => Require.ThrowsAsync<CollectiveException>(() => pair.AllReduceAsync<double>(new double[8]), "float32"));

    /// <summary>
    /// Different sizes, large enough for MPI's rendezvous protocol: a send completes only once its payload is
    /// received, so both ranks must still take the payload they refuse, or each would wait forever for its own send.
    /// </summary>
    public static Task MismatchOfLargeBuffers(Communicator world) => OnPairAsync(world,
        pair => Require.ThrowsAsync<CollectiveMismatchException>(() => pair.AllReduceAsync<float>(new float[400_000]),
            "^collective mismatch: rank 0 is in all_reduce #1 of 400000 float32 but rank 1 sent all_reduce #1 of 400002 float32$"),
        pair => Require.ThrowsAsync<CollectiveMismatchException>(() => pair.AllReduceAsync<float>(new float[400_002]), "400000"));

    /// <summary>Runs the two bodies on ranks 0 and 1 in a sub-group of their own; the other ranks only take part in the split.</summary>
    private static async Task OnPairAsync(Communicator world, Func<Communicator, Task> rank0, Func<Communicator, Task> rank1)
    {
        await using var pair = await world.SplitAsync(world.Rank < 2 ? 0 : -1, world.Rank);
        if (pair is not null)
        {
            await (pair.Rank == 0 ? rank0(pair) : rank1(pair));
        }
    }

    /// <summary>
    /// On a world with a short timeout, rank 0 enters a barrier that no other rank joins: it times out, naming
    /// the rank it waited for. A cancelled receive is then an <see cref="OperationCanceledException"/>, not a
    /// timeout. The pending MPI receives are cancelled, so the job still finishes cleanly (see the checks after).
    /// Rank 0's barrier message is never received: UCX warns "unexpected tag-receive descriptor ... was not matched"
    /// when MPI is finalised, which is expected.
    /// </summary>
    public static async Task TimeoutAndCancellation(Communicator impatient, Communicator world)
    {
        if (impatient.Rank == 0)
        {
            var timeout = impatient.Options.Timeout.TotalSeconds;
            await Require.ThrowsAsync<CollectiveTimeoutException>(() => impatient.BarrierAsync(),
                $@"^rank 0 waited {timeout} s for rank \d+ in barrier #1 of 0 byte$");
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            await Require.ThrowsAsync<OperationCanceledException>(() => impatient.ReceiveAsync<float>(1, new float[4], cancel.Token), "");
        }
        // The others wait here until rank 0 has seen both failures.
        await world.BarrierAsync();
    }
}
