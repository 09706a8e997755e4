using System.CommandLine;
using System.Globalization;
using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Graph.Partitioning;
using Dtrain.Launcher.Jobs;

namespace Dtrain.Launcher.Bench;

/// <summary>
/// `dtrain bench`: `collectives`, nccl-tests for dtrain's transports; `shampoo`, issue 4's step-time comparison
/// of Distributed Shampoo with AdamW; `cannon`, issue 5's distributed matmuls against each other and one process;
/// `sampler`, issue 6's GNN neighbour sampling; `overhead`, issue 9's training step through the framework (against
/// bench/overhead.py's PyTorch eager loop, and data-parallel scaling); `adamw`, the optimizer step alone: per-parameter
/// against flat AdamW, and ZeRO-1 against the replicated step on two in-process ranks. All but `sampler` and `adamw` run their ranks with
/// <see cref="BenchRanks"/> and rank 0 prints the table; `sampler` runs its ranks and their sampling services in one process.
/// </summary>
public static class BenchCommand
{
    public static Command Create() => new("bench", "Benchmarks (results belong in docs/benchmarks.md)") { Collectives(), Shampoo(), Cannon(), Sampler(), Overhead(), AdamW() };

    private static Command Collectives()
    {
        var ranks = new BenchRanks();
        var op = new Option<string>("--op") { Description = $"operation: {string.Join(", ", CollectiveBenchmark.Ops)}", DefaultValueFactory = _ => "all_reduce" };
        op.AcceptOnlyFromAmong(CollectiveBenchmark.Ops);
        var sizes = new Option<string>("--sizes") { Description = "bytes per size, doubling, e.g. 4K..256M", DefaultValueFactory = _ => "4K..64M" };
        var iterations = new Option<int>("--iters") { Description = "timed calls per size", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "untimed calls per size first", DefaultValueFactory = _ => 5 };
        var algorithm = new Option<string>("--algorithm") { Description = "all_reduce algorithm: auto, ring, recursive-doubling", DefaultValueFactory = _ => "auto" };
        algorithm.AcceptOnlyFromAmong("auto", "ring", "recursive-doubling");

        var command = Subcommand("collectives", "Time a collective per size and print time, algbw and busbw (nccl-tests definitions)",
            ranks, op, sizes, iterations, warmup, algorithm);
        command.SetAction(async (parse, ct) =>
        {
            string name = parse.GetValue(op)!, algorithmName = parse.GetValue(algorithm)!;
            var sizeList = ByteSizes.ParseRange(parse.GetValue(sizes)!);
            int count = parse.GetValue(ranks.Count), iters = parse.GetValue(iterations), warmupCalls = parse.GetValue(warmup);
            if (count < 1 || iters < 1 || warmupCalls < 0)
            {
                throw new UsageException("--ranks and --iters must be at least 1, --warmup at least 0");
            }
            string title = $"dtrain bench collectives: {name} over {ranks.Describe(parse)}, {count} ranks, float32, " +
                $"{iters} timed calls per size after {warmupCalls} warm-up, all_reduce algorithm {algorithmName}";
            var options = new CommunicatorOptions
            {
                AllReduceAlgorithm = algorithmName switch
                {
                    "ring" => AllReduceAlgorithm.Ring,
                    "recursive-doubling" => AllReduceAlgorithm.RecursiveDoubling,
                    _ => null,
                },
            };
            var benchmark = new CollectiveBenchmark(name, warmupCalls, iters);
            await ranks.RunAsync(parse, options, async comm =>
            {
                var results = await benchmark.RunAsync(comm, sizeList, ct);
                if (comm.Rank == 0) BenchReport.Print(Console.Out, title, results);
            }, ct);
            return 0;
        });
        return command;
    }

    private static Command Shampoo()
    {
        var ranks = new BenchRanks();
        var width = new Option<int>("--width") { Description = "hidden units per layer of the MLP", DefaultValueFactory = _ => 512 };
        var layers = new Option<int>("--layers") { Description = "hidden layers of the MLP", DefaultValueFactory = _ => 4 };
        var batch = new Option<int>("--batch") { Description = "samples per rank per step", DefaultValueFactory = _ => 256 };
        var frequencies = new Option<string>("--frequencies") { Description = "Shampoo's precondition_frequency values, one row each", DefaultValueFactory = _ => "1,10,100" };
        var maxDim = new Option<long>("--max-preconditioner-dim") { Description = "Shampoo's max_preconditioner_dim", DefaultValueFactory = _ => 512 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps first; Shampoo's run to its start step at least", DefaultValueFactory = _ => 5 };
        var steps = new Option<int>("--steps") { Description = "timed steps; Shampoo's rounded up to a multiple of its frequency", DefaultValueFactory = _ => 100 };
        var device = DeviceOption();

        var command = Subcommand("shampoo", "Time training steps of an MLP with Distributed Shampoo at each precondition frequency against AdamW",
            ranks, width, layers, batch, frequencies, maxDim, warmup, steps, device);
        command.SetAction((parse, ct) =>
        {
            var bench = new ShampooBenchmark(parse.GetValue(width), parse.GetValue(layers), parse.GetValue(batch),
                ParseFrequencies(parse.GetValue(frequencies)!), parse.GetValue(maxDim), parse.GetValue(warmup), parse.GetValue(steps), parse.GetValue(device)!);
            return RunOnRanksAsync(parse, ranks, bench.Problems(), bench.RunAsync,
                (transport, size, result) => ShampooReport.Print(Console.Out, transport, size, bench, result), ct);
        });
        return command;
    }

    private static Command Cannon()
    {
        var ranks = new BenchRanks();
        var sizes = new Option<string>("--sizes") { Description = "n of the n x n matrices, one table block each", DefaultValueFactory = _ => "1024,2048,4096" };
        var warmup = new Option<int>("--warmup") { Description = "untimed multiplications first, per algorithm and size", DefaultValueFactory = _ => 1 };
        var repeats = new Option<int>("--repeats") { Description = "timed multiplications per algorithm and size", DefaultValueFactory = _ => 5 };
        var device = DeviceOption();

        var command = Subcommand("cannon", "Time C = A B with Cannon's algorithm, SUMMA, the all-gather baseline and one process; bytes sent and peak memory per rank",
            ranks, sizes, warmup, repeats, device);
        command.SetAction((parse, ct) =>
        {
            var bench = new CannonBenchmark(ParseSizes(parse.GetValue(sizes)!), parse.GetValue(warmup), parse.GetValue(repeats), parse.GetValue(device)!);
            return RunOnRanksAsync(parse, ranks, bench.Problems(parse.GetValue(ranks.Count)), bench.RunAsync,
                (transport, size, result) => CannonReport.Print(Console.Out, transport, size, bench, result), ct);
        });
        return command;
    }

    private static Command Sampler()
    {
        var scale = new Option<int>("--scale") { Description = "the R-MAT graph has 2^scale nodes", DefaultValueFactory = _ => 20 };
        var edges = new Option<long>("--edges") { Description = "R-MAT edges drawn, before duplicates are dropped", DefaultValueFactory = _ => 20_000_000 };
        var fanouts = new Option<string>("--fanouts") { Description = "neighbours per node by hop from the seeds", DefaultValueFactory = _ => "15,10,5" };
        var batch = new Option<int>("--batch") { Description = "seed nodes per batch", DefaultValueFactory = _ => 1024 };
        var partitions = new Option<string>("--partitions") { Description = "partition counts, one row each (2 or more: also all ranks at once); 1 is the anchor", DefaultValueFactory = _ => "1,2" };
        var method = new Option<PartitionMethod>("--method") { Description = "how to partition", DefaultValueFactory = _ => PartitionMethod.Metis };
        var batches = new Option<int>("--batches") { Description = "timed batches per row", DefaultValueFactory = _ => 30 };
        var warmup = new Option<int>("--warmup") { Description = "untimed batches per row first", DefaultValueFactory = _ => 3 };
        var epoch = new Option<bool>("--epoch") { Description = "also time one whole epoch per row instead of estimating it" };
        var cache = new Option<int>("--cache") { Description = "rows of the remote-feature cache per rank; 0 for none", DefaultValueFactory = _ => 0 };
        var seed = new Option<long>("--seed") { Description = "seed of the graph, the partitioning and the batches", DefaultValueFactory = _ => 1 };

        var command = Subcommand("sampler", "Time mini-batch neighbour sampling on an R-MAT graph in 1 partition and over gRPC: sampled edges/s, feature bytes, epoch time",
            null, scale, edges, fanouts, batch, partitions, method, batches, warmup, epoch, cache, seed);
        command.SetAction(async (parse, ct) =>
        {
            var bench = new SamplerBenchmark(parse.GetValue(scale), parse.GetValue(edges), ParsePositive(parse.GetValue(fanouts)!, "--fanouts", "15,10,5"),
                parse.GetValue(batch), ParsePositive(parse.GetValue(partitions)!, "--partitions", "1,2"), parse.GetValue(method),
                parse.GetValue(batches), parse.GetValue(warmup), parse.GetValue(epoch), parse.GetValue(cache), parse.GetValue(seed));
            Refuse(bench.Problems());
            SamplerReport.Print(Console.Out, bench, await bench.RunAsync(ct));
            return 0;
        });
        return command;
    }

    private static Command Overhead()
    {
        var ranks = new BenchRanks();
        ranks.Count.DefaultValueFactory = _ => 1;
        var model = new Option<string>("--model") { Description = "mlp or transformer-lm", DefaultValueFactory = _ => "mlp" };
        model.AcceptOnlyFromAmong(OverheadBenchmark.Models);
        var shape = new TransformerShapeOptions();
        shape.Width.Description = "mlp: hidden units per layer; transformer-lm: model width";
        shape.Layers.Description = "mlp: hidden layers; transformer-lm: decoder blocks";
        var batch = new Option<int>("--batch") { Description = "samples (mlp) or sequences (transformer-lm) per rank per step", DefaultValueFactory = _ => 32 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps first", DefaultValueFactory = _ => 5 };
        var steps = new Option<int>("--steps") { Description = "timed steps", DefaultValueFactory = _ => 30 };
        var device = DeviceOption();
        var bucketMegabytes = new Option<double>("--bucket-mb")
        {
            Description = "gradient bucket size in MiB; each bucket is one all-reduce", DefaultValueFactory = _ => new JobSpec().BucketMegabytes,
        };
        var overlap = new Option<string?>("--overlap")
        {
            Description = "true: start each gradient bucket's all-reduce during backward; false: all after it (sync(ms) is then the whole averaging)",
            DefaultValueFactory = _ => "true",
        };
        JobOptions.AcceptTrueOrFalse(overlap);

        var command = Subcommand("overhead", "Time training steps through dtrain's data-parallel step (compare with bench/overhead.py; several ranks: scaling on one device)",
            ranks, [model, .. shape.Options, batch, warmup, steps, device, bucketMegabytes, overlap]);
        command.SetAction((parse, ct) =>
        {
            var bench = new OverheadBenchmark(parse.GetValue(model)!, shape.Bind(parse), parse.GetValue(batch), parse.GetValue(warmup), parse.GetValue(steps),
                parse.GetValue(device)!, parse.GetValue(bucketMegabytes), parse.GetValue(overlap) == "true");
            return RunOnRanksAsync(parse, ranks, bench.Problems(), bench.RunAsync,
                (transport, size, result) => OverheadReport.Print(Console.Out, transport, size, bench, result), ct);
        });
        return command;
    }

    private static Command AdamW()
    {
        var shape = new TransformerShapeOptions();
        var batch = new Option<int>("--batch") { Description = "sequences of the one batch the gradients come from", DefaultValueFactory = _ => 8 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps first, per optimizer", DefaultValueFactory = _ => 5 };
        var steps = new Option<int>("--steps") { Description = "timed steps per optimizer", DefaultValueFactory = _ => 30 };
        var device = DeviceOption();

        var command = Subcommand("adamw", "Time the AdamW step on the transformer LM: per parameter against flat, and ZeRO-1 against replicated on 2 in-process ranks",
            null, [.. shape.Options, batch, warmup, steps, device]);
        command.SetAction(async (parse, ct) =>
        {
            var bench = new AdamWBenchmark(shape.Bind(parse), parse.GetValue(batch), parse.GetValue(warmup), parse.GetValue(steps), parse.GetValue(device)!);
            Refuse(bench.Problems());
            AdamWReport.Print(Console.Out, bench, await bench.RunAsync(ct));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Runs a benchmark on every rank <paramref name="ranks"/> starts, once its settings have no problems; rank 0
    /// prints the table (given the transport and the rank count).
    /// </summary>
    private static async Task<int> RunOnRanksAsync<TResult>(
        ParseResult parse, BenchRanks ranks, IEnumerable<string> problems, Func<Communicator, CancellationToken, Task<TResult>> run,
        Action<string, int, TResult> print, CancellationToken ct)
    {
        Refuse(problems);
        string transport = ranks.Describe(parse);
        await ranks.RunAsync(parse, new CommunicatorOptions(), async comm =>
        {
            var result = await run(comm, ct);
            if (comm.Rank == 0) print(transport, comm.Size, result);
        }, ct);
        return 0;
    }

    /// <summary>Settings with problems are one usage error naming them all.</summary>
    private static void Refuse(IEnumerable<string> problems)
    {
        var all = problems.ToList();
        if (all.Count > 0) throw new UsageException(string.Join("; ", all));
    }

    private static long[] ParseSizes(string text) => text.Split(',', StringSplitOptions.TrimEntries)
        .Select(value => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long size) && size >= 1
            ? size
            : throw new UsageException($"--sizes: '{value}' is not a positive integer (example: 1024,2048,4096)"))
        .ToArray();

    private static int[] ParseFrequencies(string text) => ParsePositive(text, "--frequencies", "1,10,100");

    private static int[] ParsePositive(string text, string option, string example) => text.Split(',', StringSplitOptions.TrimEntries)
        .Select(value => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number >= 1
            ? number
            : throw new UsageException($"{option}: '{value}' is not a positive integer (example: {example})"))
        .ToArray();

    private static Option<string> DeviceOption()
    {
        var device = new Option<string>("--device") { Description = "cpu, cuda, or auto (CUDA when available)", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("cpu", "cuda", "auto");
        return device;
    }

    /// <summary>A benchmark command: its ranks' options first, then its own.</summary>
    private static Command Subcommand(string name, string description, BenchRanks? ranks, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in (ranks?.Options ?? []).Concat(options)) command.Options.Add(option);
        return command;
    }
}
