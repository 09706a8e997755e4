using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;

namespace Dtrain.Coordinator.Checkpoints;

/// <summary>A step workers start from (0: afresh), and the checkpoints passed over on the way to it, each with why.</summary>
public sealed record ResumePoint(long Step, IReadOnlyList<string> Skipped)
{
    /// <summary>
    /// Where a job starts, decided once by its coordinator so that every worker loads the same checkpoint. A new
    /// job (no --resume) that takes checkpoints refuses a directory holding another job's: its checkpoints would mix
    /// with them. --resume takes the newest whole checkpoint of the same state (<see cref="CheckpointIdentity.StateDiffers"/>),
    /// or a checkpoint that names no job (written before manifests named theirs), and refuses a directory holding
    /// only other jobs' checkpoints.
    /// </summary>
    /// <exception cref="UsageException">The directory cannot serve this job.</exception>
    public static ResumePoint AtStart(string jobId, JobSpec job)
    {
        var checkpoints = job.Checkpoints;
        if (checkpoints.Dir == "") return new(0, []);
        var own = CheckpointIdentity.Of(jobId, job);
        if (!checkpoints.Resume)
        {
            if (checkpoints.Every > 0 && CheckpointStore.Committed(checkpoints.Dir).FirstOrDefault(c => c.Job != own) is { } another)
            {
                throw new UsageException(
                    $"the checkpoint directory {checkpoints.Dir} holds checkpoints of another job ({Describe(another)}): " +
                    "give another --checkpoint-dir, or --resume to train on from them");
            }
            return new(0, []);
        }
        var latest = CheckpointStore.LatestValid(checkpoints.Dir, c => c.Job?.StateDiffers(own) is { } differs ? $"another job's: {differs}" : null,
            long.MaxValue, [], out var skipped);
        if (latest is null && CheckpointStore.Committed(checkpoints.Dir).FirstOrDefault(c => c.Job?.StateDiffers(own) is not null) is { } other)
        {
            throw new UsageException(
                $"the checkpoint directory {checkpoints.Dir} holds no checkpoint of this job, only another job's ({Describe(other)}: {other.Job!.StateDiffers(own)}): " +
                "resume with that job's settings, or give another --checkpoint-dir");
        }
        if (latest?.Step > job.Steps)
        {
            throw new UsageException(
                $"the newest checkpoint in {checkpoints.Dir} is of step {latest.Step}, past the job's {job.Steps} steps: give --steps {latest.Step} or more to resume it");
        }
        return new(latest?.Step ?? 0, skipped);
    }

    /// <summary>
    /// Where the next epoch starts after a failure: the newest whole checkpoint of this job at <paramref name="lastCommitted"/>
    /// (what this run committed) or before, or at the step the job resumed from. A checkpoint found corrupted or gone
    /// is passed over for the one before it, and another job's is never taken; with none left, training starts afresh.
    /// </summary>
    public static ResumePoint AfterFailure(string jobId, JobSpec job, long lastCommitted)
    {
        var checkpoints = job.Checkpoints;
        long newest = Math.Max(checkpoints.ResumeStep, lastCommitted);
        if (checkpoints.Dir == "" || newest == 0) return new(0, []);
        var own = CheckpointIdentity.Of(jobId, job);
        // Its own commits, and the checkpoints of the state it resumed from, up to that one.
        string? Refusal(CheckpointManifest c) =>
            c.Job == own || (c.Step <= checkpoints.ResumeStep && c.Job?.StateDiffers(own) is null) ? null : $"another job's ({Describe(c)})";
        var latest = CheckpointStore.LatestValid(checkpoints.Dir, Refusal, newest, [lastCommitted, checkpoints.ResumeStep], out var skipped);
        return new(latest?.Step ?? 0, skipped);
    }

    private static string Describe(CheckpointManifest checkpoint) =>
        $"step {checkpoint.Step}, " + (checkpoint.Job?.ToString() ?? "written before checkpoints named their job");
}
