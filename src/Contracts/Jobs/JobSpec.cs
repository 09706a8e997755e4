using Dtrain.Contracts.Coordinator;

namespace Dtrain.Contracts.Jobs;

/// <summary>
/// What a training job is: the settings a job file and the command line give, with their defaults. The
/// coordinator owns it and hands each worker the <see cref="JobSettings"/> form of it when the worker joins.
/// </summary>
public sealed record JobSpec
{
    /// <summary>Number of worker processes (ranks): the world size, and the most workers an epoch takes.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>
    /// The fewest workers an epoch may train with (torchrun's --nnodes MIN:MAX): after losing a worker, an epoch
    /// that has at least this many waits <see cref="LastCallSeconds"/> for more, then starts. Null: all of them.
    /// </summary>
    public int? MinWorkers { get; init; }

    public int MinimumWorkers => MinWorkers ?? Workers;

    /// <summary>How long an epoch with at least <see cref="MinimumWorkers"/> (but fewer than all) waits for more before it starts.</summary>
    public double LastCallSeconds { get; init; } = 10;

    /// <summary>An epoch that still has fewer than <see cref="MinimumWorkers"/> workers after this long fails the job.</summary>
    public double JoinTimeoutSeconds { get; init; } = 300;

    /// <summary>Optimizer steps every rank takes.</summary>
    public int Steps { get; init; } = 300;

    /// <summary>Samples per rank per step; the global batch is Workers × BatchSize.</summary>
    public int BatchSize { get; init; } = 64;

    public double LearningRate { get; init; } = 0.01;

    /// <summary>
    /// mlp: data-parallel, every rank holds the whole model and its own share of each batch. cannon-mlp:
    /// tensor-parallel, the workers form a square grid, each holds one block of every weight, and all see the whole batch.
    /// graphsage: data-parallel GraphSAGE on a partitioned graph, each rank training on the nodes its partition owns.
    /// </summary>
    public string Model { get; init; } = "mlp";

    /// <summary>transformer-lm: the text corpus it trains on, a file or a directory of files (bytes; the last tenth of each held out).</summary>
    public string Data { get; init; } = "";

    /// <summary>
    /// graphsage: a directory written by `dtrain graph partition` with one partition per worker; empty means the
    /// generated default graph (a stochastic block model), which every worker generates and partitions the same way.
    /// </summary>
    public string Graph { get; init; } = "";

    /// <summary>graphsage: neighbours sampled per hop, from the seeds outwards (PyG's order); one GraphSAGE layer per hop.</summary>
    public string Fanouts { get; init; } = "10,10";

    /// <summary>graphsage: node (classification of the seed nodes) or link (prediction, with negative sampling).</summary>
    public string GraphTask { get; init; } = "node";

    /// <summary>graphsage: feature rows of other partitions' nodes each worker keeps in its cache.</summary>
    public int FeatureCache { get; init; } = 65536;

    /// <summary>adam, or shampoo: Distributed Shampoo with Adam grafting, its blocks split across the workers.</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>The job file's shampoo section: Distributed Shampoo's options as JSON; empty means the default recipe.</summary>
    public string Shampoo { get; init; } = "";

    /// <summary>
    /// adam on the data-parallel models: ZeRO stage 1, each rank keeps the Adam state of its shard of the parameters
    /// only (a 1/workers share), gradients are reduce-scattered and the updated parameters all-gathered. The parameters
    /// come out bitwise those of the replicated optimizer on two workers; on more, the sums' order may differ in the last bit.
    /// </summary>
    public bool ShardOptimizerState { get; init; }

    /// <summary>Seeds the data, the model's initial parameters and the shuffling: same seed, same result.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>cpu, cuda, or auto (CUDA when it is available).</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Gradients are all-reduced in buckets of at most this many MiB (PyTorch DDP's default is 25).</summary>
    public double BucketMegabytes { get; init; } = 25;

    /// <summary>none, or bf16: gradient buckets travel as bfloat16, half the bytes.</summary>
    public string Compression { get; init; } = "none";

    /// <summary>
    /// Each gradient bucket's all-reduce starts during backward, as soon as its gradients are final (PyTorch DDP's
    /// way); false: all of them after backward. The same result either way, bit for bit.
    /// </summary>
    public bool Overlap { get; init; } = true;

    /// <summary>grpc, or mpi: workers start under mpiexec and exchange gradients over MPI.</summary>
    public string Transport { get; init; } = "grpc";

    /// <summary>How the grpc transport moves bulk bytes: auto (shared memory on one host, else TCP), shm, tcp, or http2.</summary>
    public string DataChannel { get; init; } = "auto";

    /// <summary>Longest wait for a peer inside a collective before it fails, in seconds (NCCL's default is 600).</summary>
    public double CollectiveTimeoutSeconds { get; init; } = 300;

    /// <summary>Directory of the job's sharded checkpoints, reachable by every worker and the coordinator.</summary>
    public string CheckpointDir { get; init; } = "";

    /// <summary>Steps between checkpoints; 0 takes none.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Committed checkpoints kept; older ones are deleted after each commit.</summary>
    public int KeepCheckpoints { get; init; } = 3;

    /// <summary>Start from the newest whole checkpoint in <see cref="CheckpointDir"/> instead of from scratch.</summary>
    public bool Resume { get; init; }

    /// <summary>Set by the coordinator when it resumes: the step of the checkpoint every worker loads; 0 starts afresh.</summary>
    public long ResumeStep { get; init; }

    /// <summary>
    /// How often a failed epoch (a worker died or went silent) is restarted, as torchrun's --max-restarts: the
    /// surviving workers abort, a replacement joins, and the new epoch resumes from the newest committed checkpoint.
    /// </summary>
    public int MaxRestarts { get; init; }

    /// <summary>A worker not heard from (progress and heartbeats every second) for this long is declared lost.</summary>
    public double HeartbeatTimeoutSeconds { get; init; } = 5;

    /// <summary>The coordinator's gRPC port; its /metrics are served on Port + 1.</summary>
    public int Port { get; init; } = 29500;

    public static readonly IReadOnlyList<string> Devices = ["cpu", "cuda", "auto"];

    public static readonly IReadOnlyList<string> Compressions = ["none", "bf16"];

    public static readonly IReadOnlyList<string> Transports = ["grpc", "mpi"];

    public static readonly IReadOnlyList<string> DataChannels = ["auto", "shm", "tcp", "http2"];

    public static readonly IReadOnlyList<string> Optimizers = ["adam", "shampoo"];

    public static readonly IReadOnlyList<string> Models = ["mlp", "cannon-mlp", "graphsage", "transformer-lm"];

    public static readonly IReadOnlyList<string> GraphTasks = ["node", "link"];

    /// <summary>The fanouts as numbers; null when they are not a comma-separated list of positive integers.</summary>
    public int[]? FanoutList()
    {
        var parts = Fanouts.Split(',', StringSplitOptions.TrimEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out values[i]) || values[i] < 1) return null;
        }
        return values;
    }

    /// <summary>Whether a checkpoint is due after <paramref name="stepsTaken"/> steps.</summary>
    public bool IsCheckpointDue(int stepsTaken) => CheckpointEvery > 0 && stepsTaken % CheckpointEvery == 0;

    public long BucketBytes => (long)(BucketMegabytes * (1 << 20));

    /// <summary>Every problem with this spec, each naming the field (as in a job file) and the bad value.</summary>
    public IEnumerable<string> Problems()
    {
        if (Workers < 1) yield return $"workers must be at least 1, got {Workers}";
        if (MinWorkers is < 1 || MinWorkers > Workers) yield return $"min_workers must be between 1 and workers ({Workers}), got {MinWorkers}";
        if (MinimumWorkers < Workers && (Model == "cannon-mlp" || Graph != "" || Transport == "mpi"))
        {
            yield return "min_workers below workers needs a world that may shrink: model mlp or graphsage on the generated graph, over grpc";
        }
        if (!(LastCallSeconds >= 0) || double.IsInfinity(LastCallSeconds)) yield return $"last_call_s must be 0 or more seconds, got {LastCallSeconds}";
        if (!(JoinTimeoutSeconds > 0) || double.IsInfinity(JoinTimeoutSeconds)) yield return $"join_timeout_s must be a positive number, got {JoinTimeoutSeconds}";
        if (Steps < 1) yield return $"steps must be at least 1, got {Steps}";
        if (BatchSize < 1) yield return $"batch_size must be at least 1, got {BatchSize}";
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) yield return $"lr must be a positive number, got {LearningRate}";
        if (!Optimizers.Contains(Optimizer)) yield return $"optimizer must be one of {string.Join(", ", Optimizers)}, got '{Optimizer}'";
        if (!Models.Contains(Model)) yield return $"model must be one of {string.Join(", ", Models)}, got '{Model}'";
        if (Model == "cannon-mlp")
        {
            int side = (int)Math.Round(Math.Sqrt(Workers));
            if (side * side != Workers) yield return $"model cannon-mlp needs a square number of workers (1, 4, 9, ...) for its grid, got {Workers}";
            if (Optimizer != "adam") yield return $"model cannon-mlp trains with adam only, got optimizer '{Optimizer}'";
            if (Compression != "none") yield return $"model cannon-mlp all-reduces no gradients, so compression must be none, got '{Compression}'";
        }
        if (ShardOptimizerState && (Optimizer != "adam" || Model is not ("mlp" or "transformer-lm")))
        {
            yield return $"shard_optimizer_state needs optimizer adam on model mlp or transformer-lm, got optimizer '{Optimizer}' on model '{Model}'";
        }
        if (Model == "transformer-lm" && Data == "") yield return "model transformer-lm trains on a text corpus: give data (--data FILE or DIRECTORY)";
        if (Model == "graphsage")
        {
            if (FanoutList() is null) yield return $"fanouts must be positive integers separated by commas, one per hop (example: 10,10), got '{Fanouts}'";
            if (!GraphTasks.Contains(GraphTask)) yield return $"graph_task must be one of {string.Join(", ", GraphTasks)}, got '{GraphTask}'";
            if (FeatureCache < 0) yield return $"feature_cache must be 0 or more rows, got {FeatureCache}";
        }
        if (CheckpointEvery < 0) yield return $"checkpoint_every must be 0 (none) or more steps, got {CheckpointEvery}";
        if (KeepCheckpoints < 1) yield return $"keep_checkpoints must be at least 1, got {KeepCheckpoints}";
        if ((CheckpointEvery > 0 || Resume) && CheckpointDir == "") yield return "checkpoint_every and resume need a checkpoint_dir";
        if (MaxRestarts < 0) yield return $"max_restarts must be 0 or more, got {MaxRestarts}";
        if (!(HeartbeatTimeoutSeconds > 0) || double.IsInfinity(HeartbeatTimeoutSeconds)) yield return $"heartbeat_timeout_s must be a positive number, got {HeartbeatTimeoutSeconds}";
        if (!Devices.Contains(Device)) yield return $"device must be one of {string.Join(", ", Devices)}, got '{Device}'";
        if (!(BucketMegabytes > 0) || BucketBytes < 1) yield return $"bucket_mb must be a positive number, got {BucketMegabytes}";
        if (!Compressions.Contains(Compression)) yield return $"compression must be one of {string.Join(", ", Compressions)}, got '{Compression}'";
        if (!Transports.Contains(Transport)) yield return $"transport must be one of {string.Join(", ", Transports)}, got '{Transport}'";
        if (!DataChannels.Contains(DataChannel)) yield return $"data_channel must be one of {string.Join(", ", DataChannels)}, got '{DataChannel}'";
        if (!(CollectiveTimeoutSeconds > 0) || double.IsInfinity(CollectiveTimeoutSeconds)) yield return $"collective_timeout_s must be a positive number, got {CollectiveTimeoutSeconds}";
        if (Port is < 1 or > 65534) yield return $"port must be between 1 and 65534, got {Port}";
    }

    public JobSettings ToSettings() => new()
    {
        WorldSize = Workers,
        MinWorkers = MinWorkers ?? 0,
        LastCallS = LastCallSeconds,
        JoinTimeoutS = JoinTimeoutSeconds,
        Steps = Steps,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        Seed = Seed,
        Device = Device,
        BucketMb = BucketMegabytes,
        Compression = Compression,
        Overlap = Overlap,
        Transport = Transport,
        DataChannel = DataChannel,
        CollectiveTimeoutS = CollectiveTimeoutSeconds,
        Optimizer = Optimizer,
        Shampoo = Shampoo,
        Model = Model,
        Graph = Graph,
        Data = Data,
        ShardOptimizerState = ShardOptimizerState,
        Fanouts = Fanouts,
        GraphTask = GraphTask,
        FeatureCache = FeatureCache,
        CheckpointDir = CheckpointDir,
        CheckpointEvery = CheckpointEvery,
        KeepCheckpoints = KeepCheckpoints,
        Resume = Resume,
        ResumeStep = ResumeStep,
        MaxRestarts = MaxRestarts,
        HeartbeatTimeoutS = HeartbeatTimeoutSeconds,
    };

    public static JobSpec FromSettings(JobSettings settings) => new()
    {
        Workers = settings.WorldSize,
        MinWorkers = settings.MinWorkers == 0 ? null : settings.MinWorkers,
        LastCallSeconds = settings.LastCallS,
        JoinTimeoutSeconds = settings.JoinTimeoutS,
        Steps = settings.Steps,
        BatchSize = settings.BatchSize,
        LearningRate = settings.LearningRate,
        Seed = settings.Seed,
        Device = settings.Device,
        BucketMegabytes = settings.BucketMb,
        Compression = settings.Compression,
        Overlap = settings.Overlap,
        Transport = settings.Transport,
        DataChannel = settings.DataChannel,
        CollectiveTimeoutSeconds = settings.CollectiveTimeoutS,
        Optimizer = settings.Optimizer,
        Shampoo = settings.Shampoo,
        Model = settings.Model,
        Graph = settings.Graph,
        Data = settings.Data,
        ShardOptimizerState = settings.ShardOptimizerState,
        Fanouts = settings.Fanouts,
        GraphTask = settings.GraphTask,
        FeatureCache = settings.FeatureCache,
        CheckpointDir = settings.CheckpointDir,
        CheckpointEvery = settings.CheckpointEvery,
        KeepCheckpoints = settings.KeepCheckpoints,
        Resume = settings.Resume,
        ResumeStep = settings.ResumeStep,
        MaxRestarts = settings.MaxRestarts,
        HeartbeatTimeoutSeconds = settings.HeartbeatTimeoutS,
    };
}
