// How fast can two local processes exchange 32 MiB in both directions at once, the pattern of one step of a
// 2-rank ring all-reduce? Ranks A and B each send their buffer to the other while receiving the other's: 3 warm-up
// exchanges, then 10 timed. Prints this rank's median exchange time, the GB/s it means (32 MiB, one direction,
// per exchange), and the CPU time (user + sys) this process spent per timed exchange.
// Usage: TransportCeiling <tcp|http2> <A|B> <rendezvous folder>   (bench/transport-ceiling.sh starts both ranks)
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Dtrain.TransportCeiling;

const int Size = 32 << 20, Chunk = 1 << 20, Warmup = 3, Timed = 10;

if (args.Length != 3 || args[0] is not ("tcp" or "http2") || args[1] is not ("A" or "B"))
{
    Console.Error.WriteLine("usage: TransportCeiling <tcp|http2> <A|B> <rendezvous folder>");
    return 2;
}
var (mode, rank, folder) = (args[0], args[1], args[2]);
string peer = rank == "A" ? "B" : "A";

// Allocated once, pinned, every page written: on this VM a fresh page fault per exchange costs more than the copy.
byte[] send = Pinned(Seed(rank)), expected = Pinned(Seed(peer)), received = Pinned(seed: null);

var rendezvous = new Rendezvous(folder, rank, peer);
// Not `await using`: after a failure the process should exit at once, not wait for the peer to finish.
ILink link = mode == "tcp" ? await TcpLink.ConnectAsync(rendezvous) : await Http2Link.ConnectAsync(rendezvous);

var times = new double[Timed];
TimeSpan cpuAtStart = default;
for (int exchange = 0; exchange < Warmup + Timed; exchange++)
{
    if (exchange == Warmup) cpuAtStart = Environment.CpuUsage.TotalTime;
    Stamp(send, exchange);
    long start = Stopwatch.GetTimestamp();
    await Task.WhenAll(SendAsync(link.Outgoing, send), ReceiveAsync(link.Incoming, received));
    if (exchange >= Warmup) times[exchange - Warmup] = Stopwatch.GetElapsedTime(start).TotalSeconds;
    CheckStamp(received, exchange);
    // The full comparison stays out of the timed exchanges and their CPU time, and is skipped after the last
    // warm-up so that it cannot delay the peer's first timed exchange. The last exchange is compared below.
    if (exchange < Warmup - 1) CheckPayload(received, expected, exchange);
}
double cpuMsPerExchange = (Environment.CpuUsage.TotalTime - cpuAtStart).TotalMilliseconds / Timed;
CheckPayload(received, expected, Warmup + Timed - 1);
await link.DisposeAsync();

Array.Sort(times);
double median = (times[Timed / 2 - 1] + times[Timed / 2]) / 2;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"RESULT mode={mode} rank={rank} median_ms={median * 1e3:F2} gbps={Size / median / 1e9:F3} cpu_ms={cpuMsPerExchange:F1}"));
return 0;

static int Seed(string rank) => rank == "A" ? 1 : 2;

// Pinned, and every page written: a seeded pseudo-random pattern, or zeros for the receive buffer.
static byte[] Pinned(int? seed)
{
    var buffer = GC.AllocateUninitializedArray<byte>(Size, pinned: true);
    if (seed is int s) new Random(s).NextBytes(buffer);
    else Array.Clear(buffer);
    return buffer;
}

static async Task SendAsync(Stream stream, byte[] buffer)
{
    for (int offset = 0; offset < buffer.Length; offset += Chunk)
        await stream.WriteAsync(buffer.AsMemory(offset, Math.Min(Chunk, buffer.Length - offset)));
    await stream.FlushAsync();
}

static async Task ReceiveAsync(Stream stream, byte[] buffer)
{
    for (int offset = 0; offset < buffer.Length;)
    {
        int n = await stream.ReadAsync(buffer.AsMemory(offset, Math.Min(Chunk, buffer.Length - offset)));
        if (n == 0) throw new EndOfStreamException($"the peer's stream ended after {offset} of {buffer.Length} bytes");
        offset += n;
    }
}

// The first and last 8 bytes carry the exchange number, so stale or misplaced data fails the cheap check.
static void Stamp(byte[] buffer, long exchange)
{
    BinaryPrimitives.WriteInt64LittleEndian(buffer, exchange);
    BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(Size - 8), exchange);
}

static void CheckStamp(byte[] buffer, long exchange)
{
    long first = BinaryPrimitives.ReadInt64LittleEndian(buffer), last = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(Size - 8));
    if (first != exchange || last != exchange)
        throw new InvalidDataException($"exchange {exchange}: received stamps {first} (first 8 bytes) and {last} (last 8 bytes)");
}

static void CheckPayload(byte[] received, byte[] expected, int exchange)
{
    if (!received.AsSpan(8, Size - 16).SequenceEqual(expected.AsSpan(8, Size - 16)))
        throw new InvalidDataException($"exchange {exchange}: the payload differs from the peer's seeded pattern");
}
