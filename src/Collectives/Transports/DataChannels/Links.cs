namespace Dtrain.Collectives.Transports.DataChannels;

/// <summary>The sending end of one direction of a data channel. Calls come one at a time (see <see cref="OutboundChannel"/>).</summary>
internal interface IOutboundLink : IDisposable
{
    /// <summary>Writes one message: its <see cref="ChannelHeader"/>, then its payload.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> payload, CancellationToken ct);

    /// <summary>Ends the channel in order: the receiver reads what was written, then sees the end.</summary>
    void Complete();

    /// <summary>Ends the channel at once; the receiver fails as soon as it looks.</summary>
    void Break();
}

/// <summary>The receiving end of one direction of a data channel, read by one pump (see <see cref="InboundChannel"/>).</summary>
internal interface IInboundLink : IDisposable
{
    /// <summary>Whether reads block their thread (then the pump gets a thread of its own) rather than await.</summary>
    bool Blocks { get; }

    /// <summary>Reads the next message's header; false when the sender completed the channel before it.</summary>
    ValueTask<bool> ReadHeaderAsync(Memory<byte> header);

    /// <summary>Reads the payload the header announced, whole, straight into <paramref name="payload"/>.</summary>
    ValueTask ReadPayloadAsync(Memory<byte> payload);

    /// <summary>Ends the channel at once: a read in progress fails, and the sender's next write does.</summary>
    void Break();

    /// <summary>
    /// The call that negotiated the channel ended, however it ended: unless the sender completed the channel in
    /// its own bytes first, it is gone, and the link breaks.
    /// </summary>
    void CallEnded();
}
