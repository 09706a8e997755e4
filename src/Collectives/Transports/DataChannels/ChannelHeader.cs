using System.Buffers.Binary;

namespace Dtrain.Collectives.Transports.DataChannels;

/// <summary>
/// The fixed-size header in front of every message on a data channel: what <see cref="MessageHeader"/> says, and
/// the payload's length. A magic number catches a channel whose bytes fell out of step.
/// </summary>
internal static class ChannelHeader
{
    public const int Size = 48;
    private const uint Magic = 0x4d475444;   // "DTGM"

    public static void Write(Span<byte> into, MessageHeader header, long payloadBytes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(into, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(into[4..], (int)header.Op);
        BinaryPrimitives.WriteInt64LittleEndian(into[8..], header.Context);
        BinaryPrimitives.WriteInt64LittleEndian(into[16..], header.Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(into[24..], header.Count);
        BinaryPrimitives.WriteInt64LittleEndian(into[32..], payloadBytes);
        BinaryPrimitives.WriteInt32LittleEndian(into[40..], (int)header.DataType);
        BinaryPrimitives.WriteInt32LittleEndian(into[44..], 0);
    }

    public static (MessageHeader Header, long PayloadBytes) Read(ReadOnlySpan<byte> from, int sender)
    {
        if (BinaryPrimitives.ReadUInt32LittleEndian(from) != Magic)
        {
            throw new CollectiveException($"the data channel from rank {sender} is out of step: a message does not start with its header");
        }
        var header = new MessageHeader(
            BinaryPrimitives.ReadInt64LittleEndian(from[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(from[16..]),
            (CollectiveOp)BinaryPrimitives.ReadInt32LittleEndian(from[4..]),
            (DataType)BinaryPrimitives.ReadInt32LittleEndian(from[40..]),
            BinaryPrimitives.ReadInt64LittleEndian(from[24..]));
        long payloadBytes = BinaryPrimitives.ReadInt64LittleEndian(from[32..]);
        if (payloadBytes < 0 || payloadBytes > int.MaxValue)
        {
            throw new CollectiveException($"rank {sender} announced a message of {payloadBytes} bytes");
        }
        return (header, payloadBytes);
    }
}
