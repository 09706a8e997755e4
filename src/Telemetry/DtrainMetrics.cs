using System.Reflection;
using Prometheus;

namespace Dtrain.Telemetry;

/// <summary>
/// Every dtrain_* metric of every process, in one place; docs/metrics.md describes each. Base units (seconds, bytes);
/// counters end in _total; labels are bounded (rank, op, transport, endpoint kind, job state; never step). Series
/// without labels appear once the process that owns them first sets them, so a worker shows no coordinator gauges.
/// </summary>
public static class DtrainMetrics
{
    /// <summary>Training steps and checkpoints take milliseconds to minutes; the web defaults stop at 10 s.</summary>
    private static readonly double[] StepBuckets = Histogram.ExponentialBuckets(0.001, 2, 18);

    /// <summary>A small collective takes tens of microseconds, a large one seconds: 100 µs to 52 s.</summary>
    private static readonly double[] CollectiveBuckets = Histogram.ExponentialBuckets(0.0001, 2, 20);

    private static readonly GaugeConfiguration SetByOwner = new() { SuppressInitialValue = true };
    private static readonly CounterConfiguration CountedByOwner = new() { SuppressInitialValue = true };

    public static readonly Gauge BuildInfo = Metrics.CreateGauge(
        "dtrain_build_info", "Always 1; the labels say which dtrain build and process this is.", "version", "process");

    public static readonly Gauge OptimizerStateBytes = Metrics.CreateGauge(
        "dtrain_optimizer_state_bytes", "Bytes of optimizer state this rank holds (with ZeRO-1, its shard's)", "rank");

    public static readonly Gauge WorldSize = Metrics.CreateGauge(
        "dtrain_world_size", "Number of ranks in the job's current epoch.", SetByOwner);

    public static readonly Gauge RegisteredWorkers = Metrics.CreateGauge(
        "dtrain_registered_workers", "Workers that joined the job's current epoch at the rendezvous.", SetByOwner);

    public static readonly Gauge JobState = Metrics.CreateGauge(
        "dtrain_job_state", "1 for the job's current state (forming, running, restarting, completed, failed), 0 for the others.", "state");

    public static readonly Gauge JobEpoch = Metrics.CreateGauge(
        "dtrain_job_epoch", "The job's membership epoch; it goes up when an epoch ends (a lost worker, or one that joined late).", SetByOwner);

    public static readonly Counter JobRestarts = Metrics.CreateCounter(
        "dtrain_job_restarts_total",
        "Epochs that ended because a worker failed or went silent (restarted from the newest checkpoint, or, past --max-restarts, failed).",
        CountedByOwner);

    public static readonly Gauge CheckpointLastCommittedStep = Metrics.CreateGauge(
        "dtrain_checkpoint_last_committed_step", "Step of the job's newest committed checkpoint (every shard in, manifest written).", SetByOwner);

    public static readonly Histogram CheckpointDuration = Metrics.CreateHistogram(
        "dtrain_checkpoint_duration_seconds", "Wall time for this rank to write its checkpoint shard and report it to the coordinator.",
        new HistogramConfiguration { Buckets = StepBuckets, LabelNames = ["rank"] });

    public static readonly Histogram StepDuration = Metrics.CreateHistogram(
        "dtrain_step_duration_seconds", "Wall time of one training step on this rank, all-reduce included.",
        new HistogramConfiguration { Buckets = StepBuckets, LabelNames = ["rank"] });

    public static readonly Histogram GradientSyncDuration = Metrics.CreateHistogram(
        "dtrain_gradient_sync_duration_seconds",
        "Wall time of one step's gradient averaging across ranks (buckets, staging and all-reduce); its share of the step time is what data parallelism costs.",
        new HistogramConfiguration { Buckets = StepBuckets, LabelNames = ["rank"] });

    public static readonly Counter TrainSamples = Metrics.CreateCounter(
        "dtrain_train_samples_total", "Training samples this rank has processed.", "rank");

    public static readonly Gauge TrainLoss = Metrics.CreateGauge(
        "dtrain_train_loss", "Training loss of this rank's latest step.", "rank");

    public static readonly Histogram CollectiveDuration = Metrics.CreateHistogram(
        "dtrain_collective_duration_seconds", "Wall time of one collective operation.",
        new HistogramConfiguration { Buckets = CollectiveBuckets, LabelNames = ["op", "transport"] });

    public static readonly Counter CollectiveBytes = Metrics.CreateCounter(
        "dtrain_collective_bytes_total", "Bytes of buffers passed to collective operations.", "op", "transport");

    public static readonly Counter MatmulSentBytes = Metrics.CreateCounter(
        "dtrain_matmul_sent_bytes_total", "Payload bytes this rank sent in distributed matrix multiplications.", "algorithm");

    public static readonly Gauge MatmulPeakBytes = Metrics.CreateGauge(
        "dtrain_matmul_peak_bytes",
        "Most bytes of blocks (inputs, product, buffers, panels) this rank held at once in its latest distributed matrix multiplication.",
        "algorithm");

    public static readonly Counter GraphSampledEdges = Metrics.CreateCounter(
        "dtrain_graph_sampled_edges_total", "Edges in the mini-batch blocks this rank has sampled.", CountedByOwner);

    public static readonly Counter GraphFeatureBytes = Metrics.CreateCounter(
        "dtrain_graph_feature_bytes_total",
        "Bytes of node features this rank gathered for its mini-batches, by where they came from: local, cache or remote.", "source");

    public static readonly Counter GraphSamplingRequests = Metrics.CreateCounter(
        "dtrain_graph_sampling_requests_total", "Requests this worker's sampling service answered, by kind: sample or features.", "kind");

    public static readonly Counter RejectedConnections = Metrics.CreateCounter(
        "dtrain_rejected_connections_total",
        "Calls refused by endpoint (coordinator, peer, sampling, data) and reason: token (not the job's or the channel's one-time token), job (another job's id), member (not the member of the epoch it claims to be) or claim (a rank or epoch that cannot be).",
        "endpoint", "reason");

    /// <summary>
    /// Exports the rejection counters of this process's endpoints at 0 from the start (coordinator: token and job;
    /// worker: its peer, sampling and data endpoints' token), so that a rate over them is 0 rather than absent.
    /// </summary>
    public static void ExposeRejectionCounters(string process)
    {
        (string Endpoint, string Reason)[] counted = process == "coordinator"
            ? [("coordinator", "token"), ("coordinator", "job"), ("coordinator", "member"), ("coordinator", "claim")]
            : [("peer", "token"), ("peer", "claim"), ("sampling", "token"), ("data", "token")];
        foreach (var (endpoint, reason) in counted) RejectedConnections.WithLabels(endpoint, reason);
    }

    /// <summary>Sets dtrain_build_info for this process; call once at start-up.</summary>
    public static void PublishBuildInfo(string process)
    {
        string version = typeof(DtrainMetrics).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        BuildInfo.WithLabels(version, process).Set(1);
    }
}
