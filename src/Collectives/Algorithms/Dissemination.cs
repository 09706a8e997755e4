namespace Dtrain.Collectives.Algorithms;

/// <summary>
/// The dissemination barrier: in round k every rank signals rank + 2^k and waits for rank - 2^k, so after
/// ceil(log2 n) rounds every rank has heard, directly or not, from every other. Works for any n.
/// </summary>
internal static class Dissemination
{
    public static async Task BarrierAsync(Communicator comm, MessageHeader header, CancellationToken ct)
    {
        int n = comm.Size, rank = comm.Rank;
        for (int distance = 1; distance < n; distance <<= 1)
        {
            await Exchange.SendReceiveAsync<byte>(
                comm, header, (rank + distance) % n, Memory<byte>.Empty, Exchange.Mod(rank - distance, n), Memory<byte>.Empty, ct);
        }
    }
}
