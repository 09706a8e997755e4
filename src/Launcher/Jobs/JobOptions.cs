using System.CommandLine;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Graph.Partitioning;
using Dtrain.Training;

namespace Dtrain.Launcher.Jobs;

/// <summary>The job settings as command-line flags, and how they combine: defaults, then the job file, then flags.</summary>
public sealed class JobOptions
{
    private static readonly JobSpec Defaults = new();

    public Argument<FileInfo?> File { get; } = new("job-file")
    {
        Description = "YAML job file with any of: workers, steps, batch_size, lr, model, optimizer, seed, device, bucket_mb, compression, overlap, shard_optimizer_state, transport, data_channel, collective_timeout_s, port, graph, data, fanouts, graph_task, feature_cache, checkpoint_dir, checkpoint_every, keep_checkpoints, resume, max_restarts, heartbeat_timeout_s, min_workers, last_call_s, join_timeout_s, and a shampoo section (flags override it)",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public Option<int?> Workers { get; } = new("--workers", "-n")
    {
        Description = $"number of worker processes (ranks) [default: {Defaults.Workers}]",
    };

    public Option<int?> Steps { get; } = new("--steps")
    {
        Description = $"optimizer steps per rank [default: {Defaults.Steps}]",
    };

    public Option<int?> BatchSize { get; } = new("--batch-size")
    {
        Description = $"samples per rank per step; the global batch is workers x batch-size [default: {Defaults.BatchSize}]",
    };

    public Option<double?> LearningRate { get; } = new("--lr")
    {
        Description = $"learning rate [default: {Defaults.LearningRate}]",
    };

    public Option<string?> Model { get; } = new("--model")
    {
        Description = $"mlp (data-parallel), cannon-mlp (tensor-parallel: Cannon's matmul on a square grid of workers), graphsage (GraphSAGE on a partitioned graph), or transformer-lm (a byte-level language model on --data) [default: {Defaults.Model}]",
    };

    public Option<string?> Optimizer { get; } = new("--optimizer")
    {
        Description = $"adam, or shampoo (Distributed Shampoo, Adam grafting, blocks split across workers) [default: {Defaults.Optimizer}]",
    };

    public Option<long?> Seed { get; } = new("--seed")
    {
        Description = $"seed of the data, initial parameters and shuffling [default: {Defaults.Seed}]",
    };

    public Option<string?> Device { get; } = new("--device")
    {
        Description = $"cpu, cuda, or auto (CUDA when available) [default: {Defaults.Device}]",
    };

    public Option<double?> BucketMegabytes { get; } = new("--bucket-mb")
    {
        Description = $"gradient bucket size in MiB; each bucket is one all-reduce [default: {Defaults.BucketMegabytes}]",
    };

    public Option<string?> Compression { get; } = new("--compression")
    {
        Description = $"none, or bf16 to send gradient buckets as bfloat16 [default: {Defaults.Compression}]",
    };

    public Option<bool> ShardOptimizerState { get; } = new("--shard-optimizer-state")
    {
        Description = "adam on mlp or transformer-lm: ZeRO-1, each worker keeps the Adam state of its shard of the parameters only (gradients reduce-scattered, parameters all-gathered)",
    };

    public Option<string?> Overlap { get; } = new("--overlap")
    {
        Description = $"true: start each gradient bucket's all-reduce during backward, once its gradients are final; false: all of them after backward [default: {Defaults.Overlap.ToString().ToLowerInvariant()}]",
    };

    public Option<string?> Transport { get; } = new("--transport")
    {
        Description = $"grpc, or mpi (workers start under mpiexec.mpich and all-reduce over MPI) [default: {Defaults.Transport}]",
    };

    public Option<string?> DataChannel { get; } = new("--data-channel")
    {
        Description = $"grpc transport: how bulk bytes travel between workers: auto (shared memory on one host, else TCP), shm, tcp, or http2 (the gRPC streams) [default: {Defaults.DataChannel}]",
    };

    public Option<double?> CollectiveTimeout { get; } = new("--collective-timeout")
    {
        Description = $"seconds a collective may wait for a peer before the job fails [default: {Defaults.CollectiveTimeoutSeconds}]",
    };

    public Option<int?> Port { get; } = new("--port")
    {
        Description = $"coordinator gRPC port; /metrics is served on port + 1 [default: {Defaults.Port}]",
    };

    public Option<string?> Graph { get; } = new("--graph")
    {
        Description = "graphsage: a directory written by 'dtrain graph partition' with one partition per worker [default: a generated stochastic block model graph]",
    };

    public Option<string?> Data { get; } = new("--data")
    {
        Description = "transformer-lm: the text corpus to train on, a file or a directory of files (bytes; the last tenth of each file is held out)",
    };

    public Option<string?> Fanouts { get; } = new("--fanouts")
    {
        Description = $"graphsage: neighbours sampled per hop from the seed nodes outwards, one GraphSAGE layer per hop [default: {Defaults.Fanouts}]",
    };

    public Option<string?> GraphTask { get; } = new("--graph-task")
    {
        Description = $"graphsage: node (node classification) or link (link prediction with negative sampling) [default: {Defaults.GraphTask}]",
    };

    public Option<int?> FeatureCache { get; } = new("--feature-cache")
    {
        Description = $"graphsage: feature rows of other workers' nodes each worker caches; 0 turns the cache off [default: {Defaults.FeatureCache}]",
    };

    public Option<string?> CheckpointDir { get; } = new("--checkpoint-dir")
    {
        Description = "directory of the job's sharded checkpoints (every worker and the coordinator must reach it)",
    };

    public Option<int?> CheckpointEvery { get; } = new("--checkpoint-every")
    {
        Description = "take a checkpoint every this many steps; 0 takes none [default: 0]",
    };

    public Option<int?> KeepCheckpoints { get; } = new("--keep-checkpoints")
    {
        Description = $"committed checkpoints to keep [default: {Defaults.KeepCheckpoints}]",
    };

    public Option<bool> Resume { get; } = new("--resume")
    {
        Description = "start from the newest whole checkpoint in --checkpoint-dir (a corrupted or incomplete one is passed over)",
    };

    public Option<int?> MaxRestarts { get; } = new("--max-restarts")
    {
        Description = "times to restart the workers from the newest checkpoint after one dies or goes silent [default: 0]",
    };

    public Option<double?> HeartbeatTimeout { get; } = new("--heartbeat-timeout")
    {
        Description = $"seconds without a heartbeat after which a worker is lost [default: {Defaults.HeartbeatTimeoutSeconds}]",
    };

    public Option<int?> MinWorkers { get; } = new("--min-workers")
    {
        Description = "fewest workers an epoch may train with after a loss (mlp, graphsage on the generated graph) [default: --workers]",
    };

    public Option<double?> LastCall { get; } = new("--last-call")
    {
        Description = $"seconds an epoch with at least --min-workers waits for the rest before it starts [default: {Defaults.LastCallSeconds}]",
    };

    public Option<double?> JoinTimeout { get; } = new("--join-timeout")
    {
        Description = $"seconds an epoch waits for --min-workers before the job fails [default: {Defaults.JoinTimeoutSeconds}]",
    };

    public JobOptions()
    {
        AcceptTrueOrFalse(Overlap);
        // Without this, a mistyped flag would be taken for the job file's name.
        File.Validators.Add(result =>
        {
            if (result.Tokens.FirstOrDefault()?.Value is { } value && value.StartsWith('-'))
            {
                result.AddError($"unknown option '{value}'");
            }
        });
    }

    public void AddTo(Command command)
    {
        command.Arguments.Add(File);
        foreach (var option in new Option[] { Workers, Steps, BatchSize, LearningRate, Model, Optimizer, Seed, Device, BucketMegabytes, Compression, Overlap, ShardOptimizerState, Transport, DataChannel, CollectiveTimeout, Port, Graph, Data, Fanouts, GraphTask, FeatureCache, CheckpointDir, CheckpointEvery, KeepCheckpoints, Resume, MaxRestarts, HeartbeatTimeout, MinWorkers, LastCall, JoinTimeout })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The job as the file and flags describe it; a usage error if the result is invalid.</summary>
    public JobSpec Resolve(ParseResult parse)
    {
        var file = parse.GetValue(File);
        var spec = file is null ? Defaults : JobFile.Load(file.FullName).ApplyTo(Defaults);
        spec = spec with
        {
            Workers = parse.GetValue(Workers) ?? spec.Workers,
            Steps = parse.GetValue(Steps) ?? spec.Steps,
            BatchSize = parse.GetValue(BatchSize) ?? spec.BatchSize,
            LearningRate = parse.GetValue(LearningRate) ?? spec.LearningRate,
            Model = parse.GetValue(Model) ?? spec.Model,
            Optimizer = parse.GetValue(Optimizer) ?? spec.Optimizer,
            Seed = parse.GetValue(Seed) ?? spec.Seed,
            Device = parse.GetValue(Device) ?? spec.Device,
            BucketMegabytes = parse.GetValue(BucketMegabytes) ?? spec.BucketMegabytes,
            Compression = parse.GetValue(Compression) ?? spec.Compression,
            Overlap = parse.GetValue(Overlap) is { } overlap ? overlap == "true" : spec.Overlap,
            ShardOptimizerState = parse.GetValue(ShardOptimizerState) || spec.ShardOptimizerState,
            Transport = parse.GetValue(Transport) ?? spec.Transport,
            DataChannel = parse.GetValue(DataChannel) ?? spec.DataChannel,
            CollectiveTimeoutSeconds = parse.GetValue(CollectiveTimeout) ?? spec.CollectiveTimeoutSeconds,
            Port = parse.GetValue(Port) ?? spec.Port,
            Graph = parse.GetValue(Graph) ?? spec.Graph,
            Data = parse.GetValue(Data) ?? spec.Data,
            Fanouts = parse.GetValue(Fanouts) ?? spec.Fanouts,
            GraphTask = parse.GetValue(GraphTask) ?? spec.GraphTask,
            FeatureCache = parse.GetValue(FeatureCache) ?? spec.FeatureCache,
            CheckpointDir = parse.GetValue(CheckpointDir) ?? spec.CheckpointDir,
            CheckpointEvery = parse.GetValue(CheckpointEvery) ?? spec.CheckpointEvery,
            KeepCheckpoints = parse.GetValue(KeepCheckpoints) ?? spec.KeepCheckpoints,
            Resume = parse.GetValue(Resume) || spec.Resume,
            MaxRestarts = parse.GetValue(MaxRestarts) ?? spec.MaxRestarts,
            HeartbeatTimeoutSeconds = parse.GetValue(HeartbeatTimeout) ?? spec.HeartbeatTimeoutSeconds,
            MinWorkers = parse.GetValue(MinWorkers) ?? spec.MinWorkers,
            LastCallSeconds = parse.GetValue(LastCall) ?? spec.LastCallSeconds,
            JoinTimeoutSeconds = parse.GetValue(JoinTimeout) ?? spec.JoinTimeoutSeconds,
        };
        // Workers may run elsewhere than the launcher's directory: hand them an absolute path.
        if (spec.Graph != "") spec = spec with { Graph = Path.GetFullPath(spec.Graph) };
        if (spec.Data != "") spec = spec with { Data = Path.GetFullPath(spec.Data) };
        if (spec.CheckpointDir != "") spec = spec with { CheckpointDir = Path.GetFullPath(spec.CheckpointDir) };
        Check(spec, file, GraphProblems(spec).Concat(DataProblems(spec)));
        return spec;
    }

    /// <summary>Refuses any value of <paramref name="option"/> but true and false, in one line naming the option.</summary>
    public static void AcceptTrueOrFalse(Option<string?> option) => option.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<string?>() is { } value && value is not ("true" or "false"))
        {
            result.AddError($"{option.Name} must be true or false, got '{value}'");
        }
    });

    /// <summary>Fails with one usage error naming every problem of the job, its own and <paramref name="more"/>.</summary>
    public static void Check(JobSpec spec, FileInfo? file, IEnumerable<string> more)
    {
        var problems = spec.Problems().Concat(JobShampoo.Problems(spec)).Concat(more).ToList();
        if (problems.Count > 0)
        {
            string source = file is null ? "" : $" (job file {file.Name} and flags)";
            throw new UsageException($"invalid job{source}: {string.Join("; ", problems)}");
        }
    }

    /// <summary>A text corpus that is not there, found before any worker starts.</summary>
    private static IEnumerable<string> DataProblems(JobSpec spec)
    {
        if (spec.Data != "" && !System.IO.File.Exists(spec.Data) && !Directory.Exists(spec.Data)) yield return $"data: {spec.Data}: no such file or directory";
    }

    /// <summary>A graph directory that cannot serve this job, found before any worker starts.</summary>
    private static IEnumerable<string> GraphProblems(JobSpec spec)
    {
        if (spec.Model != "graphsage" || spec.Graph == "") yield break;
        string? problem = null;
        try
        {
            PartitionStore.CheckPartitionCount(spec.Graph, PartitionStore.ReadManifest(spec.Graph), spec.Workers);
        }
        catch (DtrainException e)
        {
            problem = $"graph: {e.Message}";
        }
        if (problem is not null) yield return problem;
    }
}
