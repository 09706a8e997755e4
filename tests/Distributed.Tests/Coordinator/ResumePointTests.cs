using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator.Checkpoints;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Coordinator;

/// <summary>
/// Which checkpoint a job starts from, and after a failure restarts from: only its own, never another job's that
/// shares its checkpoint directory, and never one found corrupted or gone.
/// </summary>
public sealed class ResumePointTests : IDisposable
{
    private readonly TempDirectory directory = new();

    private JobSpec Job(long seed = 1, bool resume = false, long resumeStep = 0) => new()
    {
        Workers = 2, Steps = 100, Seed = seed,
        Checkpoints = new() { Dir = directory.Path, Every = 5, Keep = 100, Resume = resume, ResumeStep = resumeStep },
    };

    /// <summary>Writes random shards of two ranks and commits them as <paramref name="writer"/>'s (null: as a checkpoint written before manifests named their job).</summary>
    private void Commit(long step, CheckpointIdentity? writer, int keep = 100, string? root = null)
    {
        root ??= directory.Path;
        var random = new Random((int)step * 7 + 3);
        var shards = Enumerable.Range(0, 2).Select(rank => new CheckpointShard
        {
            Rank = rank,
            File = CheckpointStore.ShardName(rank),
            Checksum = CheckpointStore.WriteShard(root, step, rank, w => w.Write(random.NextDouble())),
        }).ToArray();
        CheckpointStore.Commit(root, new CheckpointManifest
        {
            FormatVersion = CheckpointManifest.CurrentFormatVersion, Step = step, WorldSize = 2, Shards = shards, Job = writer,
        }, keep);
    }

    private string Shard(long step, int rank) => Path.Combine(CheckpointStore.DirectoryOf(directory.Path, step), CheckpointStore.ShardName(rank));

    [Fact]
    public void A_new_job_refuses_a_directory_holding_another_jobs_checkpoints_in_one_line()
    {
        var jobA = CheckpointIdentity.Of("job-a", Job(seed: 1));
        foreach (long step in new long[] { 60, 80, 100 }) Commit(step, jobA);

        var refused = Assert.Throws<UsageException>(() => ResumePoint.AtStart("job-b", Job(seed: 5)));

        Assert.Equal($"the checkpoint directory {directory.Path} holds checkpoints of another job (step 100, job job-a (model mlp, optimizer adam, seed 1, 2 workers)): " +
            "give another --checkpoint-dir, or --resume to train on from them", refused.Message);
        // The same job (a coordinator taking it over) goes on in its own directory; a job that takes no checkpoints writes none there.
        Assert.Equal(0, ResumePoint.AtStart("job-a", Job(seed: 1)).Step);
        Assert.Equal(0, ResumePoint.AtStart("job-b", Job(seed: 5) with { Checkpoints = Job().Checkpoints with { Every = 0 } }).Step);
        // A checkpoint written before manifests named their job could be anyone's.
        using var legacy = new TempDirectory();
        Commit(60, writer: null, root: legacy.Path);
        Assert.Throws<UsageException>(() => ResumePoint.AtStart("job-a", Job() with { Checkpoints = Job().Checkpoints with { Dir = legacy.Path } }));
    }

    [Fact]
    public void Resuming_takes_the_newest_checkpoint_of_the_same_state_and_refuses_a_directory_of_another_jobs_only()
    {
        var seedOne = Job(seed: 1);
        Commit(40, CheckpointIdentity.Of("job-a", seedOne));
        Commit(45, CheckpointIdentity.Of("job-b", Job(seed: 5)));
        Commit(50, CheckpointIdentity.Of("job-b", Job(seed: 5)));

        // Another job id with the same settings (a resume printed by an earlier dtrain) is the same state.
        var resumed = ResumePoint.AtStart("job-c", Job(seed: 1, resume: true));

        Assert.Equal(40, resumed.Step);
        Assert.Equal(2, resumed.Skipped.Count);
        Assert.Contains("step-00000050 skipped: another job's: it was written with seed 5, and this job has seed 1", resumed.Skipped[0]);

        Directory.Delete(CheckpointStore.DirectoryOf(directory.Path, 40), recursive: true);
        var refused = Assert.Throws<UsageException>(() => ResumePoint.AtStart("job-c", Job(seed: 1, resume: true)));
        Assert.StartsWith($"the checkpoint directory {directory.Path} holds no checkpoint of this job, only another job's (step 50, job job-b", refused.Message);
        Assert.EndsWith("it was written with seed 5, and this job has seed 1): resume with that job's settings, or give another --checkpoint-dir", refused.Message);
    }

    [Fact]
    public void A_checkpoint_written_before_manifests_named_their_job_still_resumes()
    {
        Commit(30, writer: null);

        Assert.Equal(30, ResumePoint.AtStart("job-a", Job(resume: true)).Step);
    }

    [Fact]
    public void A_restart_passes_over_a_corrupted_or_unlisted_checkpoint_and_another_jobs_for_the_job_it_resumed_from()
    {
        // The job resumed at step 10 from a checkpoint of the same state written before manifests named their job,
        // then committed 20 and 25 itself; another job committed 15 in the same directory meanwhile.
        var job = Job(resume: true, resumeStep: 10);
        var own = CheckpointIdentity.Of("job-a", job);
        Commit(10, writer: null);
        Commit(15, CheckpointIdentity.Of("job-x", Job(seed: 9)));
        Commit(20, own);
        Commit(25, own);
        Corrupt.FlipBits(Shard(20, 1), 0x10);
        File.Delete(Path.Combine(CheckpointStore.DirectoryOf(directory.Path, 25), CheckpointStore.ManifestName));

        var restart = ResumePoint.AfterFailure("job-a", job, lastCommitted: 25);

        Assert.Equal(10, restart.Step);
        Assert.Equal(3, restart.Skipped.Count);
        Assert.EndsWith("step-00000025 skipped: its manifest is gone", restart.Skipped[0]);
        Assert.Contains($"{Shard(20, 1)} is corrupted", restart.Skipped[1]);
        Assert.Contains("step-00000015 skipped: another job's (step 15, job job-x", restart.Skipped[2]);
        // Never a checkpoint after the newest this job committed.
        Commit(30, CheckpointIdentity.Of("job-a", job));
        Assert.Equal(10, ResumePoint.AfterFailure("job-a", job, lastCommitted: 25).Step);
    }

    [Fact]
    public void Committing_deletes_only_older_checkpoints_of_the_same_state()
    {
        var own = CheckpointIdentity.Of("job-a", Job());
        Commit(100, CheckpointIdentity.Of("job-x", Job(seed: 9)));
        Commit(5, CheckpointIdentity.Of("job-x", Job(seed: 9)));
        foreach (long step in new long[] { 10, 15, 20 }) Commit(step, own, keep: 2);

        var kept = Directory.GetDirectories(directory.Path).Select(path => Path.GetFileName(path)!).Order().ToArray();

        Assert.Equal<string[]>(["step-00000005", "step-00000015", "step-00000020", "step-00000100"], kept);
    }

    public void Dispose() => directory.Dispose();
}
