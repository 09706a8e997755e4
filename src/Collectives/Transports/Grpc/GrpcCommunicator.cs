namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>A group of ranks over a <see cref="GrpcTransport"/>: the world, or a sub-group made by a split.</summary>
public sealed class GrpcCommunicator : Communicator
{
    private readonly GrpcTransport transport;
    private readonly int[] worldRanks;
    private readonly bool ownsTransport;

    private GrpcCommunicator(GrpcTransport transport, int[] worldRanks, int rank, long context, CommunicatorOptions options, bool ownsTransport)
        : base(rank, worldRanks.Length, context, options)
    {
        this.transport = transport;
        this.worldRanks = worldRanks;
        this.ownsTransport = ownsTransport;
    }

    /// <summary>The world group of a job; disposing it closes the transport.</summary>
    public static GrpcCommunicator CreateWorld(GrpcTransport transport, CommunicatorOptions? options = null) =>
        new(transport, Enumerable.Range(0, transport.WorldSize).ToArray(), transport.WorldRank, 0, options ?? new(), ownsTransport: true);

    public override string Transport => "grpc";

    protected internal override int RingSegmentBytes => 1 << 20;

    /// <summary>Aborts the transport: every communicator of this process, sub-groups included, is broken.</summary>
    public override void Abort() => transport.Abort();

    protected override ValueTask SendCoreAsync(int peer, MessageHeader header, ReadOnlyMemory<byte> payload, CancellationToken ct) =>
        transport.SendAsync(worldRanks[peer], header, payload, ct);

    protected override ValueTask ReceiveCoreAsync(int peer, MessageHeader expected, Memory<byte> buffer, CancellationToken ct) =>
        transport.ReceiveAsync(worldRanks[peer], Context, buffer,
            (header, payloadBytes) => Verify(peer, expected, header, payloadBytes, buffer.Length), ct);

    protected internal override Communicator CreateSubgroup(IReadOnlyList<int> members, long context) =>
        new GrpcCommunicator(transport, members.Select(m => worldRanks[m]).ToArray(), members.ToList().IndexOf(Rank), context, Options, ownsTransport: false);

    public override ValueTask DisposeAsync() => ownsTransport ? transport.DisposeAsync() : ValueTask.CompletedTask;
}
