using System.Buffers;
using System.Net.Sockets;

namespace Dtrain.Collectives.Transports.DataChannels;

/// <summary>
/// How a message's payload is split over a TCP channel's sockets: the header and small payloads go on the first
/// socket alone; a large payload is cut into even parts, part i on socket i, so that both sides compute the same
/// cut from the payload's length.
/// </summary>
internal static class Stripes
{
    /// <summary>No part smaller than this: below it, another socket costs more in calls than it brings.</summary>
    public const int MinimumPartBytes = 256 << 10;

    /// <summary>The parts of a payload of <paramref name="bytes"/> over <paramref name="sockets"/> sockets, in socket order.</summary>
    public static (int Offset, int Length)[] Parts(int bytes, int sockets)
    {
        int parts = Math.Clamp(bytes / MinimumPartBytes, 1, sockets);
        return Enumerable.Range(0, parts)
            .Select(i => ((int)((long)bytes * i / parts), (int)((long)bytes * (i + 1) / parts - (long)bytes * i / parts)))
            .ToArray();
    }
}

/// <summary>The sending end of a TCP channel: one or more connected sockets, written straight from the sender's memory.</summary>
internal sealed class TcpOutboundLink(IReadOnlyList<Socket> sockets) : IOutboundLink
{
    /// <summary>Up to this size, header and payload go out in one call (one copy of a small payload is cheaper than a second packet).</summary>
    private const int CoalescedBytes = 64 << 10;

    private readonly NetworkStream[] streams = sockets.Select(s => new NetworkStream(s, ownsSocket: true)).ToArray();

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        if (payload.Length <= CoalescedBytes)
        {
            byte[] message = ArrayPool<byte>.Shared.Rent(header.Length + payload.Length);
            try
            {
                header.CopyTo(message);
                payload.CopyTo(message.AsMemory(header.Length));
                await streams[0].WriteAsync(message.AsMemory(0, header.Length + payload.Length), ct);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(message);
            }
            return;
        }
        await streams[0].WriteAsync(header, ct);
        var parts = Stripes.Parts(payload.Length, streams.Length);
        await Task.WhenAll(parts.Select((part, i) => streams[i].WriteAsync(payload.Slice(part.Offset, part.Length), ct).AsTask()));
    }

    public void Complete()
    {
        foreach (var socket in sockets) socket.Shutdown(SocketShutdown.Send);
    }

    public void Break()
    {
        foreach (var socket in sockets) socket.Close(0);
    }

    public void Dispose()
    {
        foreach (var stream in streams) stream.Dispose();
    }
}

/// <summary>The receiving end of a TCP channel: reads each part of a payload from its socket straight into the destination.</summary>
internal sealed class TcpInboundLink(IReadOnlyList<Socket> sockets) : IInboundLink
{
    private readonly NetworkStream[] streams = sockets.Select(s => new NetworkStream(s, ownsSocket: true)).ToArray();

    public bool Blocks => false;

    /// <summary>Sockets say themselves when their sender is gone (end of stream, or a reset).</summary>
    public void CallEnded()
    {
    }

    public async ValueTask<bool> ReadHeaderAsync(Memory<byte> header)
    {
        int read = await streams[0].ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false);
        return read == header.Length
            ? true
            : read == 0 ? false : throw new EndOfStreamException("the sender's socket closed in the middle of a header");
    }

    public async ValueTask ReadPayloadAsync(Memory<byte> payload)
    {
        var parts = Stripes.Parts(payload.Length, streams.Length);
        if (parts.Length == 1)
        {
            await streams[0].ReadExactlyAsync(payload);
            return;
        }
        await Task.WhenAll(parts.Select((part, i) => streams[i].ReadExactlyAsync(payload.Slice(part.Offset, part.Length)).AsTask()));
    }

    public void Break()
    {
        foreach (var socket in sockets) socket.Close(0);
    }

    public void Dispose()
    {
        foreach (var stream in streams) stream.Dispose();
    }
}
