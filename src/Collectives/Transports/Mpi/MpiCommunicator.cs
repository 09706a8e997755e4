using System.Buffers;
using Dtrain.Collectives.Algorithms;

namespace Dtrain.Collectives.Transports.Mpi;

/// <summary>
/// A group of ranks over an MPI communicator (MPICH, bound with P/Invoke): the world, a duplicate of
/// MPI_COMM_WORLD, or a sub-group made by a split (MPI_Comm_create_group). Processes are started by mpiexec;
/// see <see cref="MpiEnvironment"/>.
/// </summary>
/// <remarks>
/// One transport message is two MPI messages on the same tag: a fixed-size envelope (<see cref="MpiEnvelope"/>:
/// the header and the payload's size), then the payload itself, sent from and received into the caller's pinned
/// memory without a copy (a zero-length payload sends the envelope only). Two messages rather than one packed
/// message because the receiver must check the header before MPI writes into its buffer, and because a packed
/// message would need a staging copy on both sides. Each message to a peer takes the next tag of that pair and
/// direction (modulo MPI_TAG_UB + 1), so the n-th receive from a peer matches the n-th send even when receives
/// run concurrently, and a payload can never be mistaken for another message's envelope.
/// </remarks>
public sealed class MpiCommunicator : Communicator
{
    private readonly int handle;
    private readonly bool isWorld;
    private readonly long[] sentTo, receivedFrom;
    private int disposed;

    private MpiCommunicator(int handle, int rank, int size, long context, CommunicatorOptions options, bool isWorld)
        : base(rank, size, context, options)
    {
        this.handle = handle;
        this.isWorld = isWorld;
        sentTo = new long[size];
        receivedFrom = new long[size];
    }

    /// <summary>
    /// A world communicator of all processes mpiexec started. Every rank must call it, in the same order (it
    /// duplicates MPI_COMM_WORLD, so two world communicators, e.g. with different options, never see each
    /// other's messages). The first call initialises MPI with MPI_THREAD_MULTIPLE; disposing the last world
    /// communicator finalises it, after which MPI cannot be used again in this process.
    /// </summary>
    public static MpiCommunicator CreateWorld(CommunicatorOptions? options = null)
    {
        MpiRuntime.Acquire();
        try
        {
            MpiException.Check(MpiNative.CommDup(MpiNative.CommWorld, out int world), "MPI_Comm_dup");
            return FromHandle(world, context: 0, options ?? new(), isWorld: true);
        }
        catch
        {
            MpiRuntime.Release();
            throw;
        }
    }

    public override string Transport => "mpi";

    public override bool SurvivesLostPeers => false;

    /// <summary>MPI_Abort: ends every process of the world, as mpiexec would when one of them fails.</summary>
    public override void Abort() => MpiNative.Abort(handle, 1);

    protected internal override Task? TransportAllReduceAsync<T>(Memory<T> data, ReduceOp op, CancellationToken ct) =>
        NativeAllReduceAsync(data, op, ct);

    /// <summary>
    /// MPI's own MPI_Allreduce on this group, in place, to compare the library's algorithms with. float32, float64
    /// and int64 only (MPI has no bfloat16); Average is MPI_SUM followed by a division by the group size, so
    /// floating point only. MPI adds in an order of its own: sums may differ from <see cref="Collective.AllReduceAsync"/>
    /// in the last bits. It is not one of this communicator's numbered collectives (no header, no timeout) and,
    /// once started, cannot be cancelled: it blocks a thread-pool thread in MPI until every rank has joined.
    /// </summary>
    public async Task NativeAllReduceAsync<T>(Memory<T> data, ReduceOp op = ReduceOp.Sum, CancellationToken ct = default)
        where T : unmanaged
    {
        Reduction.Validate<T>(op);
        int datatype = typeof(T) == typeof(float) ? MpiNative.Float
            : typeof(T) == typeof(double) ? MpiNative.Double
            : typeof(T) == typeof(long) ? MpiNative.Int64
            : throw new NotSupportedException($"the native MPI all-reduce takes float32, float64 and int64, not {DataTypes.Of<T>().Name()}");
        int mpiOp = op switch { ReduceOp.Max => MpiNative.Max, ReduceOp.Min => MpiNative.Min, _ => MpiNative.Sum };
        ct.ThrowIfCancellationRequested();
        await Task.Run(() => AllReduceInPlace(data, datatype, mpiOp), CancellationToken.None);
        if (op == ReduceOp.Average)
        {
            Reduction.Average(data.Span, Size);
        }
    }

    protected override async ValueTask SendCoreAsync(int peer, MessageHeader header, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        // The tag is taken synchronously, on the call: the peer's n-th receive matches this rank's n-th call.
        int tag = NextTag(sentTo, peer);
        byte[] envelope = MpiEnvelope.Encode(header, payload.Length);
        using var envelopePin = envelope.AsMemory().Pin();
        using var payloadPin = payload.Pin();
        var requests = new List<int> { PostSend(envelopePin, envelope.Length, peer, tag) };
        if (!payload.IsEmpty)
        {
            requests.Add(PostSend(payloadPin, payload.Length, peer, tag));
        }
        await MpiRequests.WaitAllAsync(requests, ct);
    }

    protected override async ValueTask ReceiveCoreAsync(int peer, MessageHeader expected, Memory<byte> buffer, CancellationToken ct)
    {
        int tag = NextTag(receivedFrom, peer);
        var envelope = new byte[MpiEnvelope.Size];
        await ReceiveAsync(envelope, peer, tag, ct);
        var (header, payloadBytes) = MpiEnvelope.Decode(envelope);
        try
        {
            Verify(peer, expected, header, payloadBytes, buffer.Length);
        }
        catch (CollectiveException) when (payloadBytes > 0)
        {
            // Take the payload off the wire anyway: a large (rendezvous) send completes only once it is received,
            // and the peer is waiting for it before it reports its own side of the disagreement.
            await ReceiveAsync(new byte[payloadBytes], peer, tag, ct);
            throw;
        }
        if (payloadBytes > 0)
        {
            await ReceiveAsync(buffer, peer, tag, ct);
        }
    }

    /// <summary>Blocks until every member has called it (MPI_Comm_create_group is collective over the members only).</summary>
    protected internal override Communicator CreateSubgroup(IReadOnlyList<int> members, long context)
    {
        MpiException.Check(MpiNative.CommGroup(handle, out int parentGroup), "MPI_Comm_group");
        try
        {
            MpiException.Check(MpiNative.GroupIncl(parentGroup, members.Count, members.ToArray(), out int group), "MPI_Group_incl");
            try
            {
                // The tag only tells apart concurrent creations on this communicator; the context already does.
                int tag = (int)((ulong)context % ((ulong)MpiRuntime.TagUpperBound + 1));
                MpiException.Check(MpiNative.CommCreateGroup(handle, group, tag, out int subgroup), "MPI_Comm_create_group");
                return FromHandle(subgroup, context, Options, isWorld: false);
            }
            finally
            {
                MpiNative.GroupFree(ref group);
            }
        }
        finally
        {
            MpiNative.GroupFree(ref parentGroup);
        }
    }

    public override ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            int freed = handle;
            try
            {
                MpiException.Check(MpiNative.CommFree(ref freed), "MPI_Comm_free");
            }
            finally
            {
                if (isWorld) MpiRuntime.Release();
            }
        }
        return ValueTask.CompletedTask;
    }

    private static MpiCommunicator FromHandle(int handle, long context, CommunicatorOptions options, bool isWorld)
    {
        MpiException.Check(MpiNative.CommRank(handle, out int rank), "MPI_Comm_rank");
        MpiException.Check(MpiNative.CommSize(handle, out int size), "MPI_Comm_size");
        return new MpiCommunicator(handle, rank, size, context, options, isWorld);
    }

    private static int NextTag(long[] counters, int peer) =>
        (int)(Interlocked.Increment(ref counters[peer]) % ((long)MpiRuntime.TagUpperBound + 1));

    private async ValueTask ReceiveAsync(Memory<byte> into, int peer, int tag, CancellationToken ct)
    {
        using var pin = into.Pin();
        await MpiRequests.WaitAllAsync([PostReceive(pin, into.Length, peer, tag)], ct);
    }

    /// <summary>Starts an MPI_Isend of bytes from memory the caller keeps pinned until the request completes.</summary>
    private unsafe int PostSend(MemoryHandle pin, int bytes, int peer, int tag)
    {
        MpiException.Check(MpiNative.Isend(pin.Pointer, bytes, MpiNative.Byte, peer, tag, handle, out int request), "MPI_Isend");
        return request;
    }

    /// <summary>Starts an MPI_Irecv of bytes into memory the caller keeps pinned until the request completes.</summary>
    private unsafe int PostReceive(MemoryHandle pin, int bytes, int peer, int tag)
    {
        MpiException.Check(MpiNative.Irecv(pin.Pointer, bytes, MpiNative.Byte, peer, tag, handle, out int request), "MPI_Irecv");
        return request;
    }

    private unsafe void AllReduceInPlace<T>(Memory<T> data, int datatype, int op) where T : unmanaged
    {
        using var pin = data.Pin();
        MpiException.Check(MpiNative.Allreduce(MpiNative.InPlace, pin.Pointer, data.Length, datatype, op, handle), "MPI_Allreduce");
    }
}
