using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Contracts.Placement;
using Dtrain.Distributed.Checkpoints;
using Dtrain.Distributed.Runtime;
using static TorchSharp.torch;

namespace Dtrain.Distributed;

/// <summary>
/// This rank's place in one membership epoch of a job, as <see cref="DistributedJob.RunAsync"/> hands it to the
/// training function: rank, world size, device, the communicator to the other ranks, the job's settings, progress
/// reports and the job's checkpoints. When a peer is lost the epoch ends: the communicator fails, and the training
/// function runs again in the next epoch, with a new context.
/// </summary>
public sealed class DistributedContext
{
    private readonly CoordinatorLink coordinator;
    private long lastStepEnded = Stopwatch.GetTimestamp();

    internal DistributedContext(
        WorkerOptions options, CoordinatorLink coordinator, JobSpec job, Epoch epoch, IReadOnlyList<string> peerAddresses, Device device,
        Communicator communicator, IProgress<StepReport> progress)
    {
        this.coordinator = coordinator;
        Options = options;
        Job = job;
        Epoch = epoch;
        PeerAddresses = peerAddresses;
        Device = device;
        Communicator = communicator;
        Progress = progress;
        Checkpoints = new JobCheckpoints(job, ReportCheckpointAsync, communicator);
    }

    public int Rank => Epoch.Rank;

    public int WorldSize => Epoch.WorldSize;

    /// <summary>The device to train on: the job's --device (auto: CUDA when present).</summary>
    public Device Device { get; }

    /// <summary>All-reduce, all-gather, reduce-scatter, broadcast, send and receive among this epoch's ranks.</summary>
    public Communicator Communicator { get; }

    /// <summary>
    /// The job's settings as `dtrain run` or the job file gave them: steps, batch size, learning rate, seed and
    /// device are the program's to use (the progress bar counts to <see cref="JobSpec.Steps"/>).
    /// </summary>
    public JobSpec Job { get; }

    public Epoch Epoch { get; }

    /// <summary>The sharded checkpoints of the job's checkpoint directory.</summary>
    public JobCheckpoints Checkpoints { get; }

    /// <summary>Every rank's peer endpoint, by rank.</summary>
    public IReadOnlyList<string> PeerAddresses { get; }

    /// <summary>How this worker joined (its job token and TLS reach the other ranks' services).</summary>
    public WorkerOptions Options { get; }

    /// <summary>Where finished steps are reported: the coordinator's progress and heartbeats.</summary>
    public IProgress<StepReport> Progress { get; }

    /// <summary>
    /// Reports that <paramref name="stepsTaken"/> steps are done, the last with mean loss <paramref name="loss"/> over
    /// <paramref name="samplesPerStep"/> samples: the job's progress, and the step metrics of /metrics.
    /// </summary>
    public void ReportStep(int stepsTaken, double loss, int samplesPerStep)
    {
        long started = lastStepEnded;
        lastStepEnded = Stopwatch.GetTimestamp();
        TrainingSteps.Finished(Progress, Rank.ToString(), stepsTaken - 1, started, samplesPerStep, loss);
    }

    /// <summary>The coordinator's shard map: who owns each unit of sharded work in this epoch (the same answer on every rank).</summary>
    public IShardPlacement ShardMap => new ShardMapPlacement(coordinator, Epoch);

    private Task ReportCheckpointAsync(int shard, long step, string file, string checksum, CancellationToken ct) =>
        coordinator.ReportCheckpointAsync(Epoch, shard, step, file, checksum, ct);
}
