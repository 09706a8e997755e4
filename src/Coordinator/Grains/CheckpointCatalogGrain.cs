using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Coordinator.Checkpoints;
using Dtrain.Telemetry;

namespace Dtrain.Coordinator.Grains;

public sealed class CheckpointCatalogGrain(CoordinatorOptions options, [PersistentState("checkpoints")] IPersistentState<CheckpointCatalogGrain.Record> stored)
    : Grain, ICheckpointCatalogGrain
{
    [GenerateSerializer]
    public sealed class Record
    {
        [Id(0)] public long Epoch { get; set; } = 1;
        [Id(1)] public long LastCommitted { get; set; }
        /// <summary>The shards reported so far of each step not yet committed.</summary>
        [Id(2)] public Dictionary<long, SortedDictionary<int, ShardReport>> Pending { get; set; } = [];
        /// <summary>The step this epoch's workers start from, fixed when it began; null in the first epoch.</summary>
        [Id(3)] public long? EpochResumeStep { get; set; }
    }

    public override Task OnActivateAsync(CancellationToken ct)
    {
        // A job resumed from a checkpoint, or taken over from a predecessor, already has one.
        if (Math.Max(options.Job.Checkpoints.ResumeStep, stored.State.LastCommitted) is > 0 and var step) DtrainMetrics.CheckpointLastCommittedStep.Set(step);
        return Task.CompletedTask;
    }

    public async Task<bool> ReportShardAsync(ShardReport report)
    {
        var (pending, epoch, lastCommitted) = (stored.State.Pending, stored.State.Epoch, stored.State.LastCommitted);
        if (report.Epoch < 1 || report.Epoch > epoch) throw new ArgumentException($"epoch {report.Epoch} is not an epoch of this job (the current one is {epoch})");
        if (report.Epoch < epoch) return false;
        var job = options.Job;
        if (report.WorldSize < 1 || report.WorldSize > job.Workers) throw new ArgumentException($"a world of {report.WorldSize} is not a world of this job (1 to {job.Workers} workers)");
        if (report.Rank < 0 || report.Rank >= report.WorldSize) throw new ArgumentException($"rank {report.Rank} is outside the world of {report.WorldSize}");
        // The manifest names the file inside the checkpoint's directory; a path could point anywhere.
        if (report.File is "" or "." or ".." || report.File.IndexOfAny(['/', '\\']) >= 0)
        {
            throw new ArgumentException($"the shard's file must be a plain file name, got '{report.File}'");
        }
        // A report delivered twice (a worker retries when its coordinator was replaced before the reply came) changes nothing.
        if (report.Step == lastCommitted && IsCommitted(report)) return true;
        if (report.Step <= lastCommitted) throw new ArgumentException($"step {report.Step} is not after the last committed checkpoint (step {lastCommitted})");
        var shards = pending.TryGetValue(report.Step, out var known) ? known : pending[report.Step] = [];
        if (shards.TryGetValue(report.Rank, out var earlier) && earlier == report) return true;
        if (shards.Values.FirstOrDefault() is { } first && first.WorldSize != report.WorldSize)
        {
            throw new ArgumentException($"rank {report.Rank} wrote step {report.Step} in a world of {report.WorldSize}, rank {first.Rank} in one of {first.WorldSize}");
        }
        if (!shards.TryAdd(report.Rank, report)) throw new ArgumentException($"rank {report.Rank} already reported its shard of step {report.Step}");
        if (shards.Count == report.WorldSize)
        {
            try
            {
                CheckpointStore.Commit(job.Checkpoints.Dir, new CheckpointManifest
                {
                    FormatVersion = CheckpointManifest.CurrentFormatVersion,
                    Step = report.Step,
                    WorldSize = report.WorldSize,
                    Job = CheckpointIdentity.Of(options.JobId, job),
                    Shards = shards.Values.Select(s => new CheckpointShard { Rank = s.Rank, File = s.File, Checksum = s.Checksum }).ToArray(),
                }, job.Checkpoints.Keep);
            }
            catch (CheckpointWriteException cannot)
            {
                // The job fails in the coordinator's words (a full disk), not in the words of workers it turns away.
                await GrainFactory.GetGrain<IJobGrain>(options.JobId).FailAsync($"the coordinator cannot commit the checkpoint of step {report.Step}: {cannot.Message}");
                return false;
            }
            stored.State.LastCommitted = report.Step;
            DtrainMetrics.CheckpointLastCommittedStep.Set(report.Step);
            // Reports of earlier steps can no longer complete a newer checkpoint than this one.
            foreach (long step in pending.Keys.Where(step => step <= report.Step).ToArray()) pending.Remove(step);
        }
        await stored.WriteStateAsync();
        return true;
    }

    /// <summary>Whether the committed manifest of the report's step holds this very shard.</summary>
    private bool IsCommitted(ShardReport report)
    {
        try
        {
            var manifest = CheckpointStore.ReadManifest(options.Job.Checkpoints.Dir, report.Step);
            return manifest.WorldSize == report.WorldSize
                && manifest.Shards.Any(shard => shard.Rank == report.Rank && shard.File == report.File && shard.Checksum == report.Checksum);
        }
        catch (DtrainException)
        {
            return false;
        }
    }

    public Task<long> GetLastCommittedAsync() => Task.FromResult(stored.State.LastCommitted);

    public Task<long> GetResumeStepAsync() => Task.FromResult(stored.State.EpochResumeStep ?? options.Job.Checkpoints.ResumeStep);

    public async Task<IReadOnlyList<string>> BeginEpochAsync(long next)
    {
        // Decided once per epoch, here, so that every worker of it loads the same checkpoint.
        var resume = ResumePoint.AfterFailure(options.JobId, options.Job, stored.State.LastCommitted);
        // The epoch retrains the steps after its resume step: their checkpoints may be committed again.
        stored.State.LastCommitted = Math.Min(stored.State.LastCommitted, resume.Step);
        stored.State.EpochResumeStep = resume.Step;
        stored.State.Pending.Clear();
        stored.State.Epoch = next;
        await stored.WriteStateAsync();
        return resume.Skipped;
    }
}
