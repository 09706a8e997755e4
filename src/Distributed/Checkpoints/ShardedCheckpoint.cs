using System.Diagnostics;
using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Telemetry;

namespace Dtrain.Distributed.Checkpoints;

/// <summary>Tells the coordinator a shard is written: its number (the writer's rank, or the grid cell it holds), step, file, checksum.</summary>
public delegate Task ShardReport(int shard, long step, string file, string checksum, CancellationToken ct);

/// <summary>
/// What every trainer's checkpoint shares: when one is due, where training starts, and each shard's header (model,
/// optimizer, step), written before the trainer's payload and checked before it is read. Subclasses write and read
/// the payload: what a rank holds of the model and its optimizer.
/// </summary>
/// <param name="model">The model's name in each shard's header (a built-in job's model, or a module's type).</param>
/// <param name="optimizer">The optimizer's name in each shard's header.</param>
public abstract class ShardedCheckpoint(JobSpec job, string model, string optimizer, ShardReport report)
{
    protected JobSpec Job => job;

    /// <summary>How this job's shards reach the coordinator.</summary>
    public ShardReport Report => report;

    /// <summary>The step training starts at: 0, or the one the job resumes at, once <paramref name="load"/> loaded its checkpoint.</summary>
    public static int StartStep<TCheckpoint>(TCheckpoint? checkpoint, JobSpec job, Action<TCheckpoint> load) where TCheckpoint : ShardedCheckpoint
    {
        if (job.Checkpoints.ResumeStep == 0) return 0;
        load(checkpoint ?? throw new InvalidOperationException("resuming needs the job's checkpoints"));
        return (int)job.Checkpoints.ResumeStep;
    }

    /// <summary>Writes shard <paramref name="shard"/> of the checkpoint after <paramref name="step"/> steps, then reports it.</summary>
    protected async Task WriteShardAsync(int shard, long step, Action<BinaryWriter> writePayload, CancellationToken ct)
    {
        long started = Stopwatch.GetTimestamp();
        string checksum = CheckpointStore.WriteShard(job.Checkpoints.Dir, step, shard, writer =>
        {
            writer.Write(model);
            writer.Write(optimizer);
            writer.Write(step);
            writePayload(writer);
        });
        await report(shard, step, CheckpointStore.ShardName(shard), checksum, ct);
        DtrainMetrics.CheckpointDuration.WithLabels(shard.ToString()).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>Reads a shard's header, refusing a shard of another model, optimizer or step; the payload follows.</summary>
    protected void ReadHeader(BinaryReader reader, int shard, long expectedStep)
    {
        string writtenModel = reader.ReadString(), writtenOptimizer = reader.ReadString();
        long step = reader.ReadInt64();
        if (writtenModel != model)
        {
            throw new DtrainException($"the checkpoint of step {expectedStep} was written by model {OneLine.Shown(writtenModel)}, and this job trains {model}");
        }
        if (writtenOptimizer != optimizer)
        {
            throw new DtrainException($"the checkpoint of step {expectedStep} was written with optimizer {OneLine.Shown(writtenOptimizer)}, and this job uses {optimizer}");
        }
        if (step != expectedStep)
        {
            throw new DtrainException($"checkpoint shard {shard} of step {expectedStep} holds step {step}");
        }
    }
}
