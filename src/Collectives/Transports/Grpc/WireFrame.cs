using System.Buffers;
using Dtrain.Collectives.Buffers;
using Dtrain.Contracts.Collectives;
using Google.Protobuf;
using Grpc.Core;

namespace Dtrain.Collectives.Transports.Grpc;

/// <summary>
/// One frame of protos/collectives.proto's <c>Frame</c>, encoded and decoded by hand rather than by the generated
/// class: the payload is written straight from the sender's memory and read straight into a pooled array
/// (see <see cref="BufferPool{T}"/>), so a frame costs one copy on each side and no new buffer. The bytes on
/// the wire are the protobuf encoding of <c>Frame</c> (fields 1 header, 2 payload, 3 end_of_message).
/// </summary>
public sealed class WireFrame
{
    private const byte HeaderTag = (1 << 3) | 2, PayloadTag = (2 << 3) | 2, EndTag = 3 << 3;

    public Header? Header { get; init; }

    public bool EndOfMessage { get; init; }

    /// <summary>What a sender sends: a slice of its own buffer.</summary>
    public ReadOnlyMemory<byte> Outgoing { get; init; }

    /// <summary>What a receiver got: the first <see cref="Length"/> bytes of a pooled array, returned by <see cref="Release"/>.</summary>
    public byte[]? Pooled { get; private init; }

    public int Length { get; private init; }

    internal void Release()
    {
        if (Pooled is not null) BufferPool<byte>.Return(Pooled);
    }

    public static readonly Marshaller<WireFrame> Marshaller = Marshallers.Create<WireFrame>(Serialize, Deserialize);

    private static void Serialize(WireFrame frame, SerializationContext context)
    {
        int headerSize = frame.Header?.CalculateSize() ?? 0;
        int size = (frame.Header is null ? 0 : 1 + CodedOutputStream.ComputeLengthSize(headerSize) + headerSize)
            + (frame.Outgoing.IsEmpty ? 0 : 1 + CodedOutputStream.ComputeLengthSize(frame.Outgoing.Length) + frame.Outgoing.Length)
            + (frame.EndOfMessage ? 2 : 0);
        context.SetPayloadLength(size);
        var writer = context.GetBufferWriter();
        if (frame.Header is { } header)
        {
            WriteTagAndLength(writer, HeaderTag, headerSize);
            header.WriteTo(writer);
        }
        if (!frame.Outgoing.IsEmpty)
        {
            WriteTagAndLength(writer, PayloadTag, frame.Outgoing.Length);
            writer.Write(frame.Outgoing.Span);
        }
        if (frame.EndOfMessage)
        {
            writer.Write<byte>([EndTag, 1]);
        }
        context.Complete();
    }

    private static WireFrame Deserialize(DeserializationContext context)
    {
        var reader = new SequenceReader<byte>(context.PayloadAsReadOnlySequence());
        Header? header = null;
        byte[]? pooled = null;
        int length = 0;
        bool end = false;
        while (reader.TryRead(out byte tag))
        {
            switch (tag)
            {
                case HeaderTag:
                    int headerSize = ReadLength(ref reader);
                    header = Header.Parser.ParseFrom(reader.UnreadSequence.Slice(0, headerSize));
                    reader.Advance(headerSize);
                    break;
                case PayloadTag:
                    length = ReadLength(ref reader);
                    pooled = BufferPool<byte>.Rent(length);
                    if (!reader.TryCopyTo(pooled.AsSpan(0, length))) throw Malformed("a truncated payload");
                    reader.Advance(length);
                    break;
                case EndTag:
                    end = ReadLength(ref reader) != 0;
                    break;
                default:
                    throw Malformed($"an unknown field tag {tag}");
            }
        }
        return new WireFrame { Header = header, Pooled = pooled, Length = length, EndOfMessage = end };
    }

    private static void WriteTagAndLength(IBufferWriter<byte> writer, byte tag, int length)
    {
        Span<byte> prefix = stackalloc byte[6];
        prefix[0] = tag;
        int used = 1;
        for (uint value = (uint)length; ; value >>= 7)
        {
            prefix[used++] = (byte)(value < 0x80 ? value : (value & 0x7F) | 0x80);
            if (value < 0x80) break;
        }
        writer.Write(prefix[..used]);
    }

    /// <summary>A protobuf varint (lengths and the bool); frames are far below 2 GiB.</summary>
    private static int ReadLength(ref SequenceReader<byte> reader)
    {
        int value = 0;
        for (int shift = 0; shift < 32; shift += 7)
        {
            if (!reader.TryRead(out byte next)) throw Malformed("a truncated length");
            value |= (next & 0x7F) << shift;
            if (next < 0x80) return value;
        }
        throw Malformed("a length that does not fit");
    }

    private static RpcException Malformed(string what) =>
        new(new Status(StatusCode.InvalidArgument, $"a peer sent a frame with {what}"));
}
