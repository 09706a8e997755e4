using System.Collections.Concurrent;
using System.Threading.Channels;
using Dtrain.Collectives.Buffers;

namespace Dtrain.Collectives.Transports.InProcess;

/// <summary>
/// Ranks as threads of one process, joined by one unbounded queue per (sender, receiver, communicator). A test
/// double for the real transports: the same headers, checks and timeouts, no sockets.
/// </summary>
public static class InProcessGroup
{
    public static IReadOnlyList<Communicator> Create(int size, CommunicatorOptions? options = null)
    {
        var fabric = new Fabric();
        var world = Enumerable.Range(0, size).ToArray();
        return world.Select(rank => new InProcessCommunicator(fabric, world, rank, 0, options ?? new())).ToArray();
    }

    private sealed class Fabric
    {
        private readonly ConcurrentDictionary<(int From, int To, long Context), Channel<Message>> queues = new();

        private readonly ConcurrentDictionary<int, bool> broken = new();

        public Channel<Message> Queue(int from, int to, long context) => queues.GetOrAdd((from, to, context), key =>
        {
            var queue = Channel.CreateUnbounded<Message>();
            if (broken.ContainsKey(key.From) || broken.ContainsKey(key.To)) queue.Writer.TryComplete(new PeerLostException(key.From));
            return queue;
        });

        /// <summary>Ends every queue from and to <paramref name="worldRank"/>, and those made later.</summary>
        public void Break(int worldRank)
        {
            broken[worldRank] = true;
            foreach (var ((from, to, _), queue) in queues)
            {
                if (from == worldRank || to == worldRank) queue.Writer.TryComplete(new PeerLostException(from));
            }
        }
    }

    /// <summary>A copy of the sender's payload, in a pooled array (see <see cref="BufferPool{T}"/>).</summary>
    private sealed record Message(MessageHeader Header, byte[] Pooled, int Length)
    {
        public static Message Copy(MessageHeader header, ReadOnlyMemory<byte> payload)
        {
            var pooled = BufferPool<byte>.Rent(payload.Length);
            payload.CopyTo(pooled);
            return new Message(header, pooled, payload.Length);
        }
    }

    /// <param name="worldRanks">The world rank of each rank of this group.</param>
    private sealed class InProcessCommunicator(Fabric fabric, int[] worldRanks, int rank, long context, CommunicatorOptions options)
        : Communicator(rank, worldRanks.Length, context, options)
    {
        public override string Transport => "inproc";

        /// <summary>Ends every queue from and to this rank: the peers' receives from it fail at once.</summary>
        public override void Abort() => fabric.Break(worldRanks[Rank]);

        /// <remarks>The queues are unbounded: a write fails only once the queue was ended by an abort.</remarks>
        protected override ValueTask SendCoreAsync(int peer, MessageHeader header, ReadOnlyMemory<byte> payload, CancellationToken ct)
        {
            var message = Message.Copy(header, payload);
            if (fabric.Queue(worldRanks[Rank], worldRanks[peer], Context).Writer.TryWrite(message)) return ValueTask.CompletedTask;
            BufferPool<byte>.Return(message.Pooled);
            throw new PeerLostException(peer);
        }

        protected override async ValueTask ReceiveCoreAsync(int peer, MessageHeader expected, Memory<byte> buffer, CancellationToken ct)
        {
            Message message;
            try
            {
                message = await fabric.Queue(worldRanks[peer], worldRanks[Rank], Context).Reader.ReadAsync(ct);
            }
            catch (ChannelClosedException)
            {
                throw new PeerLostException(peer);
            }
            try
            {
                Verify(peer, expected, message.Header, message.Length, buffer.Length);
                message.Pooled.AsMemory(0, message.Length).CopyTo(buffer);
            }
            finally
            {
                BufferPool<byte>.Return(message.Pooled);
            }
        }

        protected internal override Communicator CreateSubgroup(IReadOnlyList<int> members, long subgroupContext) =>
            new InProcessCommunicator(fabric, members.Select(m => worldRanks[m]).ToArray(), members.ToList().IndexOf(Rank), subgroupContext, Options);

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
