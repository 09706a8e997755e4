using System.CommandLine;
using System.Net.Sockets;
using Dtrain.Collectives;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Collectives.Transports.Mpi;
using Dtrain.Contracts;
using Dtrain.Contracts.Hosting;
using Dtrain.Contracts.Jobs;
using Dtrain.Launcher.Local;
using Dtrain.Worker;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// `dtrain bench collectives`: nccl-tests for dtrain's transports. inproc runs the ranks as threads; grpc starts
/// one `dtrain bench collectives --rank R --ports ...` process per rank, each with its own peer endpoint on a
/// port chosen here; mpi runs this same command under `mpiexec.mpich -n RANKS`. Rank 0 prints the table.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var transport = new Option<string>("--transport") { Description = "inproc, grpc or mpi", DefaultValueFactory = _ => "grpc" };
        transport.AcceptOnlyFromAmong("inproc", "grpc", "mpi");
        var ranks = new Option<int>("--ranks") { Description = "number of ranks", DefaultValueFactory = _ => 2 };
        var op = new Option<string>("--op") { Description = $"operation: {string.Join(", ", CollectiveBenchmark.Ops)}", DefaultValueFactory = _ => "all_reduce" };
        op.AcceptOnlyFromAmong(CollectiveBenchmark.Ops);
        var sizes = new Option<string>("--sizes") { Description = "bytes per size, doubling, e.g. 4K..256M", DefaultValueFactory = _ => "4K..64M" };
        var iterations = new Option<int>("--iters") { Description = "timed calls per size", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "untimed calls per size first", DefaultValueFactory = _ => 5 };
        var algorithm = new Option<string>("--algorithm") { Description = "all_reduce algorithm: auto, ring, recursive-doubling", DefaultValueFactory = _ => "auto" };
        algorithm.AcceptOnlyFromAmong("auto", "ring", "recursive-doubling");
        var rank = new Option<int?>("--rank") { Hidden = true };
        var ports = new Option<string?>("--ports") { Hidden = true };

        var collectives = new Command("collectives", "Time a collective per size and print time, algbw and busbw (nccl-tests definitions)")
        {
            transport, ranks, op, sizes, iterations, warmup, algorithm, rank, ports,
        };
        collectives.SetAction(async (parse, ct) =>
        {
            var run = new BenchRun(
                parse.GetValue(transport)!, parse.GetValue(ranks), parse.GetValue(op)!, ByteSizes.ParseRange(parse.GetValue(sizes)!),
                parse.GetValue(iterations), parse.GetValue(warmup), parse.GetValue(algorithm)!);
            if (run.Ranks < 1 || run.Iterations < 1 || run.Warmup < 0)
            {
                throw new UsageException("--ranks and --iters must be at least 1, --warmup at least 0");
            }
            var arguments = parse.Tokens.Select(t => t.Value);
            if (parse.GetValue(rank) is { } myRank)
            {
                await run.RunGrpcRankAsync(myRank, ParsePorts(parse.GetValue(ports)), ct);
            }
            else if (run.Transport == "inproc")
            {
                await run.RunInProcessAsync(ct);
            }
            else if (run.Transport == "grpc")
            {
                await run.SpawnGrpcRanksAsync(arguments, ct);
            }
            else if (MpiEnvironment.Current.IsLaunchedByMpi)
            {
                await run.RunMpiRankAsync(ct);
            }
            else
            {
                await WaitForAllAsync([ChildProcess.Start(0, arguments, JobToken.Generate(), Console.WriteLine, ["mpiexec.mpich", "-n", run.Ranks.ToString()])], ct);
            }
            return 0;
        });
        return new Command("bench", "Benchmarks (results belong in docs/benchmarks.md)") { collectives };
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

    private sealed record BenchRun(string Transport, int Ranks, string Op, IReadOnlyList<long> Sizes, int Iterations, int Warmup, string Algorithm)
    {
        private CommunicatorOptions Options => new()
        {
            AllReduceAlgorithm = Algorithm switch
            {
                "ring" => AllReduceAlgorithm.Ring,
                "recursive-doubling" => AllReduceAlgorithm.RecursiveDoubling,
                _ => null,
            },
        };

        private string Title => $"dtrain bench collectives: {Op} over {Transport}, {Ranks} ranks, float32, " +
            $"{Iterations} timed calls per size after {Warmup} warm-up, all_reduce algorithm {Algorithm}";

        private CollectiveBenchmark Benchmark => new(Op, Warmup, Iterations);

        public async Task RunInProcessAsync(CancellationToken ct)
        {
            var group = InProcessGroup.Create(Ranks, Options);
            var results = await Task.WhenAll(group.Select(comm => Task.Run(() => Benchmark.RunAsync(comm, Sizes, ct))));
            BenchReport.Print(Console.Out, Title, results[0]);
        }

        public async Task SpawnGrpcRanksAsync(IEnumerable<string> arguments, CancellationToken ct)
        {
            // Peer ports then metrics ports, all chosen here so that no two ranks can pick the same one.
            var ports = Enumerable.Range(0, 2 * Ranks).Select(_ => Ports.FindFree()).ToArray();
            var common = arguments.Append("--ports").Append(string.Join(',', ports)).ToArray();
            string token = JobToken.Generate();
            await WaitForAllAsync(Enumerable.Range(0, Ranks)
                .Select(r => ChildProcess.Start(r, common.Append("--rank").Append(r.ToString()), token, Console.WriteLine))
                .ToList(), ct);
        }

        public async Task RunMpiRankAsync(CancellationToken ct)
        {
            await using var comm = MpiCommunicator.CreateWorld(Options);
            if (comm.Size != Ranks)
            {
                throw new UsageException($"--ranks {Ranks} but mpiexec started {comm.Size} processes");
            }
            var results = await Benchmark.RunAsync(comm, Sizes, ct);
            if (comm.Rank == 0) BenchReport.Print(Console.Out, Title, results);
        }

        public async Task RunGrpcRankAsync(int rank, int[] ports, CancellationToken ct)
        {
            string token = JobEnvironment.RequireJobToken();
            var inbox = new PeerInbox(token);
            var peerPorts = ports[..Ranks];
            await using var endpoint = await WorkerEndpoint.StartAsync(inbox, "127.0.0.1", "127.0.0.1", peerPorts[rank], ports[Ranks + rank], ct);
            await WaitUntilListeningAsync(peerPorts, ct);
            var addresses = peerPorts.Select(p => $"http://127.0.0.1:{p}").ToArray();
            await using var comm = GrpcCommunicator.CreateWorld(new GrpcTransport(rank, addresses, inbox, token), Options);
            var results = await Benchmark.RunAsync(comm, Sizes, ct);
            await comm.BarrierAsync(ct);
            if (rank == 0) BenchReport.Print(Console.Out, Title, results);
        }

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
}
