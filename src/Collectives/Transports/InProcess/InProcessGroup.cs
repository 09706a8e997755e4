using System.Threading.Channels;

namespace Dtrain.Collectives.Transports.InProcess;

/// <summary>
/// Ranks as threads of one process, joined by one unbounded queue per (sender, receiver) pair. A test double
/// for the real transports: same ordering and length checks, no sockets.
/// </summary>
public static class InProcessGroup
{
    public static IReadOnlyList<ICommunicator> Create(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var queues = new Channel<byte[]>[size, size];
        for (int from = 0; from < size; from++)
        {
            for (int to = 0; to < size; to++)
            {
                queues[from, to] = Channel.CreateUnbounded<byte[]>();
            }
        }
        return Enumerable.Range(0, size).Select(rank => new InProcessCommunicator(rank, queues)).ToArray();
    }

    private sealed class InProcessCommunicator(int rank, Channel<byte[]>[,] queues) : ICommunicator
    {
        public int Rank => rank;

        public int Size => queues.GetLength(0);

        public string Transport => "inproc";

        public ValueTask SendAsync(int peer, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default) =>
            queues[rank, peer].Writer.WriteAsync(message.ToArray(), cancellationToken);

        public async ValueTask ReceiveAsync(int peer, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            byte[] message = await queues[peer, rank].Reader.ReadAsync(cancellationToken);
            if (message.Length != buffer.Length)
            {
                throw new CollectiveException(
                    $"rank {rank} expected a message of {buffer.Length} bytes from rank {peer} but got {message.Length}");
            }
            message.CopyTo(buffer);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
