using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dtrain.Collectives;
using Dtrain.Collectives.Transports.DataChannels;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts.Collectives;
using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Dtrain.Hosting;
using Dtrain.Tests.Collectives;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Sdk;

namespace Dtrain.Tests.Hosting;

/// <summary>
/// Hostile connections to every port a job listens on, over raw loopback sockets: a real coordinator's gRPC and
/// /metrics ports, a real worker's peer endpoint and /metrics, and its TCP data-channel listener. Each server drops
/// what is not its protocol at once and what stays idle within its limit; meanwhile, and afterwards, the coordinator
/// answers a call, two ranks all-reduce over new connections to the oracle's result, and /metrics scrapes.
/// </summary>
public class HostileConnectionTests(HostileConnectionTests.Servers servers) : IClassFixture<HostileConnectionTests.Servers>
{
    /// <summary>
    /// How long a server may take to drop a connection that broke its protocol: less than the idle limit plus the
    /// second in which Kestrel checks it, so a connection dropped for its silence does not pass for one dropped at once.
    /// </summary>
    private static readonly TimeSpan Prompt = Servers.Limits.IdleTimeout;

    /// <summary>The idle limit, Kestrel's one-second check, and some slack.</summary>
    private static readonly TimeSpan IdleBound = Servers.Limits.IdleTimeout + TimeSpan.FromSeconds(4);

    private static readonly byte[] Preface = Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

    [Fact]
    public async Task Random_bytes_are_dropped_on_every_port_and_every_server_keeps_serving()
    {
        var random = new Random(20261205);
        foreach (var port in servers.All)
        {
            var garbage = new byte[1024];
            random.NextBytes(garbage);
            using var socket = await ConnectAsync(port);
            await socket.SendAsync(garbage);

            await ClosedByServerAsync(socket, Prompt, $"random bytes on {port.Name}");
        }
        await servers.ServeAsync();
    }

    [Fact]
    public async Task A_truncated_http2_preface_is_dropped_when_the_client_hangs_up()
    {
        foreach (var port in servers.Grpc)
        {
            using var socket = await ConnectAsync(port);
            await socket.SendAsync(Preface.AsMemory(0, 18));
            socket.Shutdown(SocketShutdown.Send);

            await ClosedByServerAsync(socket, Prompt, $"a truncated preface on {port.Name}");
        }
        await servers.ServeAsync();
    }

    /// <summary>A frame header claiming one byte of HEADERS more than the maximum, with a little of it; one claiming 2^24 - 1 bytes of DATA, with none.</summary>
    [Fact]
    public async Task Frames_longer_than_the_maximum_frame_size_end_the_connection_with_a_frame_size_error()
    {
        const byte Data = 0x0, Headers = 0x1;
        const uint FrameSizeError = 0x6;
        foreach (var port in servers.Grpc)
        {
            foreach (var (type, length, payload) in new[] { (Headers, (1 << 20) + 1, new byte[1000]), (Data, (1 << 24) - 1, Array.Empty<byte>()) })
            {
                using var socket = await ConnectAsync(port);
                await socket.SendAsync(Preface.Concat(Frame(0x4, 0, 0, [])).Concat(Frame(type, length, 1, payload)).ToArray());

                var received = await ClosedByServerAsync(socket, Prompt, $"a frame of {length} bytes on {port.Name}");
                Assert.Equal(FrameSizeError, GoAwayError(received));
            }
        }
        await servers.ServeAsync();
    }

    [Fact]
    public async Task A_header_line_over_the_limit_on_the_metrics_ports_is_answered_431_and_dropped()
    {
        foreach (var port in servers.Metrics)
        {
            using var socket = await ConnectAsync(port);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: {new string('a', 40 << 10)}\r\n\r\n"));

            string answer = Encoding.ASCII.GetString(await ClosedByServerAsync(socket, Prompt, $"a 40 KiB header line on {port.Name}"));
            Assert.StartsWith("HTTP/1.1 431 ", answer);
        }
        await servers.ServeAsync();
    }

    /// <summary>
    /// Connections that say nothing, or stop halfway through their first words (an HTTP/2 preface, an HTTP/1.1
    /// request line, a data channel's greeting), held open at once. A real sender still gets its data channel
    /// while they wait on the listener, and every HTTP server drops them once they have been idle for its limit, but
    /// not the gRPC calls of ranks that sit between two collectives for longer.
    /// </summary>
    [Fact]
    public async Task Many_idle_connections_keep_no_real_peer_out_and_are_dropped_after_the_idle_limit_unlike_idle_peer_streams()
    {
        const int PerPort = 60;
        var halfSpoken = new Dictionary<Port, byte[]>
        {
            [servers.Data] = new byte[TcpChannelListener.GreetingBytes / 2],
        };
        foreach (var port in servers.Grpc) halfSpoken[port] = Preface[..18];
        foreach (var port in servers.Metrics) halfSpoken[port] = Encoding.ASCII.GetBytes("GET /metr");
        await using var held = servers.StartEpoch();
        await held.AllReduceAsync(seed: 0);
        var heldIdle = System.Diagnostics.Stopwatch.StartNew();
        var idle = new List<(Port Port, Socket Socket)>();
        try
        {
            foreach (var port in servers.All)
            {
                var sockets = await Task.WhenAll(Enumerable.Range(0, PerPort).Select(_ => ConnectAsync(port)));
                foreach (var socket in sockets.Take(PerPort / 2)) await socket.SendAsync(halfSpoken[port]);
                idle.AddRange(sockets.Select(socket => (port, socket)));
            }

            await servers.ServeAsync();

            await Task.WhenAll(idle.Where(c => c.Port != servers.Data).Select(c => ClosedByServerAsync(c.Socket, IdleBound, $"an idle connection to {c.Port.Name}")));
            // The held epoch's calls, which keep its data channels, stay open past the idle limit (and the second in
            // which Kestrel checks it) with nothing to say.
            var quiet = Servers.Limits.IdleTimeout + TimeSpan.FromSeconds(2) - heldIdle.Elapsed;
            if (quiet > TimeSpan.Zero) await Task.Delay(quiet);
            await held.AllReduceAsync(seed: 1);
        }
        finally
        {
            idle.ForEach(c => c.Socket.Dispose());
        }
    }

    private static async Task<Socket> ConnectAsync(Port port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port.Number);
        return socket;
    }

    /// <summary>What the server sent before it closed the connection (or reset it); fails if it still holds it after <paramref name="bound"/>.</summary>
    private static async Task<byte[]> ClosedByServerAsync(Socket socket, TimeSpan bound, string what)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 << 10];
        using var patience = new CancellationTokenSource(bound);
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, patience.Token)) > 0) received.Write(buffer, 0, read);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
        catch (OperationCanceledException)
        {
            throw new XunitException($"{what}: the server still held the connection after {bound.TotalSeconds} s");
        }
        return received.ToArray();
    }

    /// <summary>An HTTP/2 frame: a 24-bit length (claimed, whatever follows), type, no flags, stream, payload.</summary>
    private static byte[] Frame(byte type, int claimedLength, int stream, byte[] payload)
    {
        var frame = new byte[9 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)claimedLength << 8);
        frame[3] = type;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), stream);
        payload.CopyTo(frame, 9);
        return frame;
    }

    /// <summary>The error code of the GOAWAY frame among the server's frames; null when it sent none.</summary>
    private static uint? GoAwayError(byte[] frames)
    {
        for (int at = 0; at + 9 <= frames.Length;)
        {
            int length = (int)(BinaryPrimitives.ReadUInt32BigEndian(frames.AsSpan(at)) >> 8);
            if (frames[at + 3] == 0x7 && at + 9 + length <= frames.Length) return BinaryPrimitives.ReadUInt32BigEndian(frames.AsSpan(at + 9 + 4));
            at += 9 + length;
        }
        return null;
    }

    public sealed record Port(string Name, int Number);

    /// <summary>One membership epoch of the fixture's two ranks, over TCP data channels.</summary>
    internal sealed class Epoch(long number, GrpcTransport[] transports) : IAsyncDisposable
    {
        private static readonly CommunicatorOptions Ring = new() { AllReduceAlgorithm = AllReduceAlgorithm.Ring };
        private readonly GrpcCommunicator[] comms = transports.Select(t => GrpcCommunicator.CreateWorld(t, Ring)).ToArray();

        /// <summary>
        /// An all-reduce of random non-symmetric data on both ranks, each matching the oracle bit for bit; within a
        /// data-channel listener's greeting timeout, which a listener that waited on idle sockets one by one would miss.
        /// </summary>
        public async Task AllReduceAsync(int seed)
        {
            var allReduced = Conformance.OnAllRanks(comms, comm => RankChecks.AllReduce<float>(comm, ReduceOp.Sum, (int)number * 10 + seed, 1000, 70_001));
            if (await Task.WhenAny(allReduced, Task.Delay(Servers.Patience)) != allReduced)
            {
                throw new XunitException($"the two ranks did not all-reduce within {Servers.Patience.TotalSeconds} s in epoch {number}");
            }
            await allReduced;
            Assert.Equal((DataChannel.Tcp, DataChannel.Tcp), (transports[0].ChannelTo(1), transports[1].ChannelTo(0)));
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var comm in comms) await comm.DisposeAsync();
        }
    }

    /// <summary>
    /// A coordinator and a worker group of two ranks whose data channels are TCP, all on loopback with a short idle
    /// limit; rank 1's ports take the assaults.
    /// </summary>
    public sealed class Servers : IAsyncLifetime
    {
        public static readonly ConnectionLimits Limits = new() { IdleTimeout = TimeSpan.FromSeconds(2) };

        private const string PeerToken = "hostile-test-token";
        internal static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
        private static readonly GrpcTransportOptions TcpChannels = new() { DataChannel = DataChannel.Tcp };

        private CoordinatorHost coordinator = null!;
        private GrpcGroup peers = null!;
        private long lastEpoch = 1;

        public IReadOnlyList<Port> Grpc { get; private set; } = [];

        public IReadOnlyList<Port> Metrics { get; private set; } = [];

        public Port Data { get; private set; } = null!;

        public IEnumerable<Port> All => Grpc.Concat(Metrics).Append(Data);

        public async Task InitializeAsync()
        {
            coordinator = await CoordinatorHost.StartAsync(new CoordinatorOptions
            {
                JobId = $"job-{Guid.NewGuid():N}", JobToken = JobToken.Generate(), Job = new JobSpec { Workers = 2, Port = TestPorts.FreePair() },
                Connections = Limits,
            });
            peers = await GrpcGroup.StartAsync(2, transportOptions: TcpChannels, token: PeerToken, connections: Limits);
            var rank1 = peers.Endpoints[1];
            Grpc = [new("the coordinator's gRPC port", coordinator.Options.Job.Port), new("rank 1's peer port", new Uri(rank1.PeerAddress).Port)];
            Metrics = [new("the coordinator's metrics port", coordinator.Options.Job.Port + 1), new("rank 1's metrics port", new Uri(rank1.MetricsAddress).Port)];
            Data = new("rank 1's data-channel port", await DataChannelPortAsync(rank1.PeerAddress, 1));
        }

        public async Task DisposeAsync()
        {
            await peers.DisposeAsync();
            await coordinator.DisposeAsync();
        }

        /// <summary>
        /// Every server still serves new connections: the coordinator answers a status call, the two ranks all-reduce
        /// in a new epoch (new gRPC connections, a new TCP data channel each way) to the oracle's result, /metrics scrapes.
        /// </summary>
        public async Task ServeAsync()
        {
            using (var channel = GrpcChannel.ForAddress(coordinator.Address))
            {
                var status = await new Contracts.Coordinator.Coordinator.CoordinatorClient(channel).StatusAsync(
                    new StatusRequest { JobToken = coordinator.Options.JobToken }, deadline: DateTime.UtcNow + Patience);
                Assert.Equal(0, status.Joined);
            }
            await using (var epoch = StartEpoch()) await epoch.AllReduceAsync(seed: 0);
            using var http = new HttpClient { Timeout = Patience };
            foreach (string metrics in new[] { coordinator.MetricsAddress, peers.Endpoints[1].MetricsAddress })
            {
                Assert.Contains("# TYPE ", await http.GetStringAsync(metrics));
            }
        }

        /// <summary>The two ranks in a membership epoch of their own: new transports, so new gRPC connections and data channels.</summary>
        internal Epoch StartEpoch()
        {
            long number = Interlocked.Increment(ref lastEpoch);
            var addresses = peers.Endpoints.Select(e => e.PeerAddress).ToArray();
            return new Epoch(number, Enumerable.Range(0, 2).Select(rank => new GrpcTransport(rank, addresses, peers.Inboxes[rank], PeerToken, TcpChannels, number)).ToArray());
        }

        /// <summary>Where a worker's data-channel listener accepts sockets, asked as a TCP channel's sender would (from the rank to itself).</summary>
        private static async Task<int> DataChannelPortAsync(string peerAddress, int rank)
        {
            using var grpc = GrpcChannel.ForAddress(peerAddress);
            using var call = new Peer.PeerClient(grpc).OpenChannel(new Metadata
            {
                { PeerMetadata.SenderRank, rank.ToString(System.Globalization.CultureInfo.InvariantCulture) }, { PeerMetadata.JobToken, PeerToken }, { PeerMetadata.Epoch, "1" },
            });
            await call.RequestStream.WriteAsync(new ChannelRequest { Kind = "tcp", TcpStripes = 1 });
            Assert.True(await call.ResponseStream.MoveNext());
            return call.ResponseStream.Current.TcpPort;
        }
    }
}
