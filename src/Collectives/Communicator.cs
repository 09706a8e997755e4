namespace Dtrain.Collectives;

/// <summary>
/// A group of ranks that exchange messages point to point, the way a torch.distributed process group or an MPI
/// communicator does. The collective operations (see <see cref="Collective"/>) are written once over its two
/// primitives, send and receive; a transport only moves a header and a payload between two ranks, in order.
/// This class numbers the collectives, checks every received header against the collective the rank is in,
/// and bounds every wait by <see cref="CommunicatorOptions.Timeout"/>. As c10d's backends, a transport may also
/// supply its own implementation of a collective (<see cref="TransportAllReduceAsync{T}"/>), and it can be
/// aborted (<see cref="Abort"/>).
/// </summary>
public abstract class Communicator : IAsyncDisposable
{
    private readonly long[] pointToPointSent, pointToPointReceived;
    private long collectives;
    private long bytesSent;

    protected Communicator(int rank, int size, long context, CommunicatorOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, size);
        (Rank, Size, Context, Options) = (rank, size, context, options);
        pointToPointSent = new long[size];
        pointToPointReceived = new long[size];
    }

    public int Rank { get; }

    public int Size { get; }

    /// <summary>Tells this communicator's messages apart from those of its parent or sibling groups.</summary>
    public long Context { get; }

    public CommunicatorOptions Options { get; }

    /// <summary>The transport's name, as used in metric labels: "inproc", "grpc", "mpi".</summary>
    public abstract string Transport { get; }

    /// <summary>Payload bytes this rank has sent on this communicator (not on its sub-groups), headers excluded.</summary>
    public long BytesSent => Interlocked.Read(ref bytesSent);

    /// <summary>How many collectives this rank has started on this communicator.</summary>
    internal long CollectivesStarted => Interlocked.Read(ref collectives);

    /// <summary>The header of this rank's next collective; every rank numbers its collectives the same way.</summary>
    internal MessageHeader BeginCollective(CollectiveOp op, DataType type, long count) =>
        new(Context, Interlocked.Increment(ref collectives), op, type, count);

    internal MessageHeader NextSentTo(int peer, DataType type, long count) =>
        new(Context, Interlocked.Increment(ref pointToPointSent[peer]), CollectiveOp.PointToPoint, type, count);

    internal MessageHeader NextReceivedFrom(int peer, DataType type, long count) =>
        new(Context, Interlocked.Increment(ref pointToPointReceived[peer]), CollectiveOp.PointToPoint, type, count);

    internal ValueTask SendAsync(int peer, MessageHeader header, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        CheckPeer(peer);
        Interlocked.Add(ref bytesSent, payload.Length);
        return SendCoreAsync(peer, header, payload, ct);
    }

    internal async ValueTask ReceiveAsync(int peer, MessageHeader expected, Memory<byte> buffer, CancellationToken ct)
    {
        CheckPeer(peer);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Options.Timeout);
        try
        {
            await ReceiveCoreAsync(peer, expected, buffer, deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CollectiveTimeoutException(Rank, peer, expected, Options.Timeout);
        }
    }

    /// <summary>Sends one message; messages to the same peer arrive in order.</summary>
    protected abstract ValueTask SendCoreAsync(int peer, MessageHeader header, ReadOnlyMemory<byte> payload, CancellationToken ct);

    /// <summary>
    /// Receives the next message from <paramref name="peer"/> on this communicator into <paramref name="buffer"/>.
    /// Implementations call <see cref="Verify"/> with the message's header and size before writing the buffer.
    /// </summary>
    protected abstract ValueTask ReceiveCoreAsync(int peer, MessageHeader expected, Memory<byte> buffer, CancellationToken ct);

    /// <summary>
    /// The size of the segments in which the ring all-reduce pipelines a block (reducing one while the next
    /// arrives); 0 sends whole blocks. Transports that pipeline large messages themselves (MPI) keep 0: there,
    /// many outstanding segments cost more than they bring.
    /// </summary>
    protected internal virtual int RingSegmentBytes => 0;

    /// <summary>
    /// Whether the ranks can go on in a new membership epoch after one of them was lost. gRPC's can; MPI's cannot:
    /// mpiexec ends every rank of the world, and its launcher restarts the group.
    /// </summary>
    public virtual bool SurvivesLostPeers => true;

    /// <summary>
    /// Breaks this rank's connections at once, without waiting for the peers: the epoch failed, and a peer that
    /// hangs must not hold this rank up. Peers waiting for this rank's messages fail at once. The communicator is
    /// of no further use.
    /// </summary>
    public abstract void Abort();

    /// <summary>
    /// The transport's own all-reduce, used under <see cref="AllReduceAlgorithm.Transport"/> (as MPI_Allreduce);
    /// null when the transport has none.
    /// </summary>
    protected internal virtual Task? TransportAllReduceAsync<T>(Memory<T> data, ReduceOp op, CancellationToken ct) where T : unmanaged => null;

    /// <summary>The communicator of a sub-group: <paramref name="members"/> are ranks of this one, in new-rank order.</summary>
    protected internal abstract Communicator CreateSubgroup(IReadOnlyList<int> members, long context);

    protected void Verify(int peer, MessageHeader expected, MessageHeader received, long payloadBytes, int bufferBytes)
    {
        if (received != expected)
        {
            throw new CollectiveMismatchException(Rank, expected, peer, received);
        }
        if (payloadBytes != bufferBytes)
        {
            throw new CollectiveException(
                $"rank {peer} sent {payloadBytes} bytes in {received} where rank {Rank} expected {bufferBytes}");
        }
    }

    public abstract ValueTask DisposeAsync();

    private void CheckPeer(int peer)
    {
        if (peer < 0 || peer >= Size || peer == Rank)
        {
            throw new ArgumentOutOfRangeException(nameof(peer), $"rank {Rank} of {Size} cannot exchange messages with rank {peer}");
        }
    }
}
