using System.Buffers.Binary;

namespace Dtrain.Collectives.Transports.Mpi;

/// <summary>
/// The first of the two MPI messages that carry one transport message: the <see cref="MessageHeader"/> and the
/// payload's size, in a fixed 34-byte little-endian layout, so the receiver can check both before it lets MPI
/// write into its buffer.
/// </summary>
internal static class MpiEnvelope
{
    public const int Size = 4 * sizeof(long) + 2;

    public static byte[] Encode(MessageHeader header, int payloadBytes)
    {
        var bytes = new byte[Size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt64LittleEndian(span, header.Context);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], header.Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], header.Count);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], payloadBytes);
        span[32] = (byte)header.Op;
        span[33] = (byte)header.DataType;
        return bytes;
    }

    public static (MessageHeader Header, long PayloadBytes) Decode(ReadOnlySpan<byte> bytes) =>
        (new MessageHeader(
            Context: BinaryPrimitives.ReadInt64LittleEndian(bytes),
            Sequence: BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]),
            Op: (CollectiveOp)bytes[32],
            DataType: (DataType)bytes[33],
            Count: BinaryPrimitives.ReadInt64LittleEndian(bytes[16..])),
         BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]));
}
