using System.CommandLine;
using System.Net.Sockets;
using Dtrain.Collectives;
using Dtrain.Collectives.Transports.DataChannels;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Collectives.Transports.Mpi;
using Dtrain.Contracts;
using Dtrain.Contracts.Network;
using Dtrain.Contracts.Jobs;
using Dtrain.Hosting;
using Dtrain.Launcher.Local;
using Dtrain.Worker;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// The ranks of a benchmark command and how they start. inproc runs them as threads of this process; grpc starts
/// one `dtrain bench ... --rank R --ports ...` process per rank, each with its own peer endpoint on a port chosen
/// here; mpi runs this same command under `mpiexec.mpich -n RANKS`. Every rank runs the same body.
/// </summary>
public sealed class BenchRanks
{
    private readonly Option<int?> rank = new("--rank") { Hidden = true };
    private readonly Option<string?> ports = new("--ports") { Hidden = true };

    public BenchRanks()
    {
        Transport.AcceptOnlyFromAmong("inproc", "grpc", "mpi");
        DataChannel.AcceptOnlyFromAmong([.. DataChannels.Names]);
    }

    public Option<string> Transport { get; } = new("--transport") { Description = "inproc, grpc or mpi", DefaultValueFactory = _ => "grpc" };

    public Option<string> DataChannel { get; } = new("--data-channel")
    {
        Description = "grpc: how bulk bytes travel: auto, shm, tcp or http2", DefaultValueFactory = _ => "auto",
    };

    public Option<int> Count { get; } = new("--ranks") { Description = "number of ranks", DefaultValueFactory = _ => 2 };

    /// <summary>The options a benchmark command needs for its ranks, the hidden ones a spawned rank reads included.</summary>
    public IEnumerable<Option> Options => [Transport, DataChannel, Count, rank, ports];

    /// <summary>The transport as a table's title names it: grpc with its data channel.</summary>
    public string Describe(ParseResult parse) => parse.GetValue(Transport) is "grpc" and var grpc
        ? $"{grpc} ({parse.GetValue(DataChannel)} data channel)"
        : parse.GetValue(Transport)!;

    /// <summary>Runs <paramref name="body"/> on every rank, each with the communicator of all ranks.</summary>
    public async Task RunAsync(ParseResult parse, CommunicatorOptions options, Func<Communicator, Task> body, CancellationToken ct)
    {
        int ranks = parse.GetValue(Count);
        if (ranks < 1) throw new UsageException($"--ranks must be at least 1, got {ranks}");
        var arguments = parse.Tokens.Select(t => t.Value);
        if (parse.GetValue(rank) is { } myRank)
        {
            var channel = DataChannels.Parse(parse.GetValue(DataChannel)!);
            await RunGrpcRankAsync(myRank, ranks, ParsePorts(parse.GetValue(ports)), channel, options, body, ct);
        }
        else if (parse.GetValue(Transport) == "inproc")
        {
            await Task.WhenAll(InProcessGroup.Create(ranks, options).Select(comm => Task.Run(() => body(comm), ct)));
        }
        else if (parse.GetValue(Transport) == "grpc")
        {
            await SpawnGrpcRanksAsync(arguments, ranks, ct);
        }
        else if (MpiEnvironment.Current.IsLaunchedByMpi)
        {
            await RunMpiRankAsync(ranks, options, body);
        }
        else
        {
            await WaitForAllAsync([ChildProcess.Start(0, ChildProcess.Self(arguments), JobToken.Generate(), Console.WriteLine, ["mpiexec.mpich", "-n", ranks.ToString()])], ct);
        }
    }

    private static async Task SpawnGrpcRanksAsync(IEnumerable<string> arguments, int ranks, CancellationToken ct)
    {
        // Peer ports then metrics ports, all chosen here so that no two ranks can pick the same one.
        var ports = Enumerable.Range(0, 2 * ranks).Select(_ => Ports.FindFree()).ToArray();
        var common = arguments.Append("--ports").Append(string.Join(',', ports)).ToArray();
        string token = JobToken.Generate();
        await WaitForAllAsync(Enumerable.Range(0, ranks)
            .Select(r => ChildProcess.Start(r, ChildProcess.Self(common.Append("--rank").Append(r.ToString())), token, Console.WriteLine))
            .ToList(), ct);
    }

    private static async Task RunMpiRankAsync(int ranks, CommunicatorOptions options, Func<Communicator, Task> body)
    {
        await using var comm = MpiCommunicator.CreateWorld(options);
        if (comm.Size != ranks)
        {
            throw new UsageException($"--ranks {ranks} but mpiexec started {comm.Size} processes");
        }
        await body(comm);
    }

    private static async Task RunGrpcRankAsync(
        int rank, int ranks, int[] ports, DataChannel channel, CommunicatorOptions options, Func<Communicator, Task> body, CancellationToken ct)
    {
        string token = JobEnvironment.RequireJobToken();
        using var inbox = new PeerInbox(token, System.Net.IPAddress.Loopback);
        var peerPorts = ports[..ranks];
        await using var endpoint = await WorkerEndpoint.StartAsync(inbox, "127.0.0.1", "127.0.0.1", peerPorts[rank], ports[ranks + rank], GrpcTls.None, [], ConnectionLimits.Default, ct);
        await WaitUntilListeningAsync(peerPorts, ct);
        var addresses = peerPorts.Select(p => $"http://127.0.0.1:{p}").ToArray();
        await using var comm = GrpcCommunicator.CreateWorld(new GrpcTransport(rank, addresses, inbox, token, new GrpcTransportOptions { DataChannel = channel }), options);
        await body(comm);
        await comm.BarrierAsync(ct);
    }

    /// <summary>Waits for every child to exit; the first that fails ends the wait, and the others are stopped.</summary>
    private static async Task WaitForAllAsync(List<ChildProcess> children, CancellationToken ct)
    {
        try
        {
            while (children.Any(c => !c.HasExited))
            {
                if (ChildProcess.FirstFailure(children, "rank") is { } failure) throw new DtrainException(failure);
                await Task.Delay(100, ct);
            }
            if (ChildProcess.FirstFailure(children, "rank") is { } last) throw new DtrainException(last);
        }
        finally
        {
            children.ForEach(c => c.Dispose());
        }
    }

    private static int[] ParsePorts(string? text) =>
        text?.Split(',').Select(int.Parse).ToArray() ?? throw new UsageException("--rank needs --ports");

    /// <summary>Peers start at different times; wait until every peer endpoint accepts connections.</summary>
    private static async Task WaitUntilListeningAsync(int[] ports, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        foreach (int port in ports)
        {
            while (true)
            {
                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync("127.0.0.1", port, ct);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50, ct);
                }
            }
        }
    }
}
