using System.Text.Json.Serialization;

namespace Dtrain.Contracts.Jobs;

/// <summary>
/// What a training job is, with its defaults. A job file spells it in snake_case with the same sections, flags
/// set what carries a <see cref="FlagAttribute"/>, and the coordinator hands every worker all of it as
/// <see cref="JobJson"/> when the worker joins. A new setting is a property here, plus its check in
/// <see cref="Problems"/> when it needs one.
/// </summary>
public sealed record JobSpec
{
    [Flag("--workers", "number of worker processes (ranks): the world size, and the most workers an epoch takes", Alias = "-n")]
    public int Workers { get; init; } = 2;

    [Flag("--steps", "optimizer steps per rank")]
    public int Steps { get; init; } = 300;

    [Flag("--batch-size", "samples per rank per step; the global batch is workers x batch-size")]
    public int BatchSize { get; init; } = 64;

    [Flag("--lr", "learning rate")]
    [JsonPropertyName("lr")]
    public double LearningRate { get; init; } = 0.01;

    [Flag("--model", "mlp (data-parallel), cannon-mlp (tensor-parallel: Cannon's matmul on a square grid of workers), graphsage (GraphSAGE on a partitioned graph), or transformer-lm (a byte-level language model on --data)")]
    public ModelKind Model { get; init; } = ModelKind.Mlp;

    [Flag("--data", "transformer-lm: the text corpus to train on, a file or a directory of files (bytes; the last tenth of each file is held out)", HideDefault = true)]
    public string Data { get; init; } = "";

    [Flag("--optimizer", "adam, or shampoo (Distributed Shampoo, Adam grafting, blocks split across workers)")]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Distributed Shampoo's options by the reference's names; null: <see cref="ShampooOptions.JobRecipe"/>. Its lr is always the job's.</summary>
    public ShampooOptions? Shampoo { get; init; }

    [Flag("--shard-optimizer-state", "adam on mlp or transformer-lm: ZeRO-1, each worker keeps the Adam state of its shard of the parameters only (gradients reduce-scattered, parameters all-gathered)", HideDefault = true)]
    public bool ShardOptimizerState { get; init; }

    [Flag("--seed", "seed of the data, initial parameters and shuffling: same seed, same result")]
    public long Seed { get; init; } = 1;

    [Flag("--device", "cpu, cuda, or auto (CUDA when available)")]
    public DeviceKind Device { get; init; } = DeviceKind.Auto;

    [Flag("--bucket-mb", "gradient bucket size in MiB; each bucket is one all-reduce (PyTorch DDP's default is 25)")]
    [JsonPropertyName("bucket_mb")]
    public double BucketMegabytes { get; init; } = 25;

    [Flag("--compression", "none, or bf16 to send gradient buckets as bfloat16")]
    public CompressionKind Compression { get; init; } = CompressionKind.None;

    [Flag("--overlap", "true: start each gradient bucket's all-reduce during backward, once its gradients are final (PyTorch DDP's way); false: all of them after backward. The same result either way, bit for bit")]
    public bool Overlap { get; init; } = true;

    [Flag("--transport", "grpc, or mpi (workers start under mpiexec.mpich and all-reduce over MPI)")]
    public TransportKind Transport { get; init; } = TransportKind.Grpc;

    [Flag("--data-channel", "grpc transport: how bulk bytes travel between workers: auto (shared memory on one host, else TCP), shm, tcp, or http2 (the gRPC streams)")]
    public DataChannelKind DataChannel { get; init; } = DataChannelKind.Auto;

    [Flag("--collective-timeout", "seconds a collective may wait for a peer before the job fails (NCCL's default is 600)")]
    [JsonPropertyName("collective_timeout_s")]
    public double CollectiveTimeoutSeconds { get; init; } = 300;

    [Flag("--port", "coordinator gRPC port; /metrics is served on port + 1")]
    public int Port { get; init; } = 29500;

    public GraphSection Graph { get; init; } = new();

    public CheckpointSection Checkpoints { get; init; } = new();

    public ElasticSection Elastic { get; init; } = new();

    /// <summary>The fewest workers an epoch may train with.</summary>
    public int MinimumWorkers => Elastic.MinWorkers ?? Workers;

    public long BucketBytes => (long)(BucketMegabytes * (1 << 20));

    /// <summary>The largest bucket_mb: far beyond any model, and its bytes still fit a long.</summary>
    public const double MaxBucketMegabytes = 1 << 20;

    /// <summary>The Shampoo options the job's optimizer takes: its section or the recipe, on the job's lr.</summary>
    public ShampooOptions EffectiveShampoo => (Shampoo ?? ShampooOptions.JobRecipe) with { LearningRate = LearningRate };

    /// <summary>Every problem with this job, each naming the field (as in a job file) and the bad value.</summary>
    public IEnumerable<string> Problems()
    {
        if (Workers < 1) yield return $"workers must be at least 1, got {Workers}";
        if (Steps < 1) yield return $"steps must be at least 1, got {Steps}";
        if (BatchSize < 1) yield return $"batch_size must be at least 1, got {BatchSize}";
        if (!IsPositive(LearningRate)) yield return $"lr must be a positive number, got {LearningRate}";
        if (Model == ModelKind.CannonMlp)
        {
            int side = (int)Math.Round(Math.Sqrt(Workers));
            if (side * side != Workers) yield return $"model cannon-mlp needs a square number of workers (1, 4, 9, ...) for its grid, got {Workers}";
            if (Optimizer != OptimizerKind.Adam) yield return "model cannon-mlp trains with adam only, got optimizer shampoo";
            if (Compression != CompressionKind.None) yield return "model cannon-mlp all-reduces no gradients, so compression must be none, got bf16";
        }
        if (ShardOptimizerState && (Optimizer != OptimizerKind.Adam || Model is not (ModelKind.Mlp or ModelKind.TransformerLm)))
        {
            yield return $"shard_optimizer_state needs optimizer adam on model mlp or transformer-lm, got optimizer {JobJson.Name(Optimizer)} on model {JobJson.Name(Model)}";
        }
        if (Model == ModelKind.TransformerLm && Data == "") yield return "model transformer-lm trains on a text corpus: give data (--data FILE or DIRECTORY)";
        if (Model == ModelKind.Graphsage)
        {
            foreach (var problem in Graph.Problems()) yield return problem;
        }
        if (Optimizer == OptimizerKind.Shampoo || Shampoo is not null)
        {
            foreach (var problem in ShampooProblems()) yield return problem;
        }
        foreach (var problem in Checkpoints.Problems()) yield return problem;
        foreach (var problem in Elastic.Problems(this)) yield return problem;
        if (!IsPositive(BucketMegabytes) || BucketBytes < 1) yield return $"bucket_mb must be a positive number, got {BucketMegabytes}";
        else if (BucketMegabytes > MaxBucketMegabytes) yield return $"bucket_mb must be at most {MaxBucketMegabytes} (1 TiB), got {BucketMegabytes}";
        if (Durations.Problem("collective_timeout_s", CollectiveTimeoutSeconds) is { } timeout) yield return timeout;
        if (Network.Endpoints.PortProblem("port", Port, following: 1) is { } port) yield return port;
    }

    private IEnumerable<string> ShampooProblems()
    {
        if (Shampoo is not null && Shampoo.LearningRate != new ShampooOptions().LearningRate)
        {
            yield return "shampoo: its learning rate is the job's lr, not shampoo.learning_rate";
        }
        var options = EffectiveShampoo;
        foreach (var problem in options.Problems()) yield return $"shampoo.{problem}";
        if (options.NumTrainersPerGroup is { } perGroup && Workers % perGroup != 0)
        {
            yield return $"shampoo.num_trainers_per_group {perGroup} does not divide workers {Workers}";
        }
    }

    internal static bool IsPositive(double value) => value > 0 && !double.IsInfinity(value);
}

/// <summary>The graph a graphsage job trains on, and how it samples it.</summary>
public sealed record GraphSection
{
    [Flag("--graph", "graphsage: a directory written by 'dtrain graph partition' with at least one partition per worker [default: a generated stochastic block model graph]", HideDefault = true)]
    public string Dir { get; init; } = "";

    [Flag("--fanouts", "graphsage: neighbours sampled per hop from the seed nodes outwards, comma-separated, one GraphSAGE layer per hop")]
    public int[] Fanouts { get; init; } = [10, 10];

    [Flag("--graph-task", "graphsage: node (node classification) or link (link prediction with negative sampling)")]
    public GraphTaskKind Task { get; init; } = GraphTaskKind.Node;

    [Flag("--gnn", "graphsage: the layers: sage-mean or sage-pool (GraphSAGE's mean or max-pooling aggregator) or gat (4-head graph attention)")]
    public GnnKind Gnn { get; init; } = GnnKind.SageMean;

    [Flag("--feature-cache", "graphsage: feature rows of other workers' nodes each worker caches; 0 turns the cache off")]
    public int FeatureCache { get; init; } = 65536;

    public IEnumerable<string> Problems()
    {
        if (Fanouts.Length == 0 || Fanouts.Any(f => f < 1)) yield return $"graph.fanouts must be positive integers, one per hop (example: 10,10), got [{string.Join(",", Fanouts)}]";
        if (FeatureCache < 0) yield return $"graph.feature_cache must be 0 or more rows, got {FeatureCache}";
    }
}

/// <summary>Where and how often a job checkpoints, and whether it resumes.</summary>
public sealed record CheckpointSection
{
    [Flag("--checkpoint-dir", "directory of the job's sharded checkpoints (every worker and the coordinator must reach it)", HideDefault = true)]
    public string Dir { get; init; } = "";

    [Flag("--checkpoint-every", "take a checkpoint every this many steps; 0 takes none")]
    public int Every { get; init; }

    [Flag("--keep-checkpoints", "committed checkpoints to keep; older ones are deleted after each commit")]
    public int Keep { get; init; } = 3;

    [Flag("--resume", "start from the newest whole checkpoint of the same model, optimizer and seed in --checkpoint-dir (a corrupted or incomplete one, or another job's, is passed over); without it, a directory holding another job's checkpoints is refused", HideDefault = true)]
    public bool Resume { get; init; }

    /// <summary>Set by the coordinator when it resumes: the step of the checkpoint every worker loads; 0 starts afresh.</summary>
    public long ResumeStep { get; init; }

    /// <summary>Whether a checkpoint is due after <paramref name="stepsTaken"/> steps.</summary>
    public bool IsDue(int stepsTaken) => Every > 0 && stepsTaken % Every == 0;

    public IEnumerable<string> Problems()
    {
        if (Every < 0) yield return $"checkpoints.every must be 0 (none) or more steps, got {Every}";
        if (Keep < 1) yield return $"checkpoints.keep must be at least 1, got {Keep}";
        if ((Every > 0 || Resume) && Dir == "") yield return "checkpoints.every and checkpoints.resume need a checkpoints.dir (--checkpoint-dir)";
    }
}

/// <summary>How a job survives lost workers: restarts, and epochs that may start with fewer workers (torchrun's elastic launch).</summary>
public sealed record ElasticSection
{
    [Flag("--max-restarts", "times to restart the workers from the newest checkpoint after one dies or goes silent (torchrun's --max-restarts)")]
    public int MaxRestarts { get; init; }

    [Flag("--heartbeat-timeout", "seconds without a heartbeat after which a worker is lost")]
    [JsonPropertyName("heartbeat_timeout_s")]
    public double HeartbeatTimeoutSeconds { get; init; } = 5;

    [Flag("--min-workers", "fewest workers an epoch may train with after a loss (torchrun's --nnodes MIN:MAX; mlp, graphsage) [default: --workers]", HideDefault = true)]
    public int? MinWorkers { get; init; }

    [Flag("--last-call", "seconds an epoch with at least --min-workers (but fewer than all) waits for the rest before it starts")]
    [JsonPropertyName("last_call_s")]
    public double LastCallSeconds { get; init; } = 10;

    [Flag("--join-timeout", "seconds an epoch waits for --min-workers before the job fails")]
    [JsonPropertyName("join_timeout_s")]
    public double JoinTimeoutSeconds { get; init; } = 300;

    public IEnumerable<string> Problems(JobSpec job)
    {
        if (MaxRestarts < 0) yield return $"elastic.max_restarts must be 0 or more, got {MaxRestarts}";
        if (Durations.Problem("elastic.heartbeat_timeout_s", HeartbeatTimeoutSeconds) is { } heartbeat) yield return heartbeat;
        if (MinWorkers is < 1 || MinWorkers > job.Workers) yield return $"elastic.min_workers must be between 1 and workers ({job.Workers}), got {MinWorkers}";
        if (job.MinimumWorkers < job.Workers && (job.Model == ModelKind.CannonMlp || job.Transport == TransportKind.Mpi))
        {
            yield return "elastic.min_workers below workers needs a world that may shrink: model mlp or graphsage, over grpc";
        }
        if (Durations.Problem("elastic.last_call_s", LastCallSeconds, zeroAllowed: true) is { } lastCall) yield return lastCall;
        if (Durations.Problem("elastic.join_timeout_s", JoinTimeoutSeconds) is { } joinTimeout) yield return joinTimeout;
    }
}
