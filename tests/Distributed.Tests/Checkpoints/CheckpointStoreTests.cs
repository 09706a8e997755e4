using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Tests.Graph;

namespace Dtrain.Tests.Checkpoints;

/// <summary>What makes a checkpoint usable: a committed manifest and every shard whole.</summary>
public class CheckpointStoreTests
{
    /// <summary>Writes random shards for every rank and, when asked, commits them.</summary>
    private static void Write(string root, long step, int worldSize, bool commit = true, int keep = 10)
    {
        var random = new Random((int)step);
        var shards = Enumerable.Range(0, worldSize).Select(rank => new CheckpointShard
        {
            Rank = rank,
            File = CheckpointStore.ShardName(rank),
            Checksum = CheckpointStore.WriteShard(root, step, rank, writer => writer.Write(random.NextDouble())),
        }).ToArray();
        if (commit)
        {
            CheckpointStore.Commit(root, new CheckpointManifest { FormatVersion = 1, Step = step, WorldSize = worldSize, Shards = shards }, keep);
        }
    }

    [Fact]
    public void The_newest_committed_checkpoint_is_taken_and_an_uncommitted_one_never()
    {
        using var directory = new TempDirectory();
        Write(directory.Path, 10, 2);
        Write(directory.Path, 20, 2);
        Write(directory.Path, 30, 2, commit: false); // a run killed before every shard was in

        var latest = CheckpointStore.LatestValid(directory.Path, out var skipped);

        Assert.Equal(20, latest!.Step);
        Assert.Empty(skipped);
    }

    [Fact]
    public void A_corrupted_or_missing_shard_falls_back_to_the_checkpoint_before()
    {
        using var directory = new TempDirectory();
        Write(directory.Path, 10, 3);
        Write(directory.Path, 20, 3);
        Write(directory.Path, 30, 3);
        string corrupted = Path.Combine(CheckpointStore.DirectoryOf(directory.Path, 30), CheckpointStore.ShardName(2));
        Corrupt.FlipBits(corrupted, 0x20, position: 9);
        File.Delete(Path.Combine(CheckpointStore.DirectoryOf(directory.Path, 20), CheckpointStore.ShardName(0)));

        var latest = CheckpointStore.LatestValid(directory.Path, out var skipped);

        Assert.Equal(10, latest!.Step);
        Assert.Equal(2, skipped.Count);
        Assert.Contains($"{corrupted} is corrupted", skipped[0]);
        Assert.Contains("rank-0.shard", skipped[1]);
    }

    [Fact]
    public void Committing_keeps_only_the_newest_checkpoints()
    {
        using var directory = new TempDirectory();
        foreach (long step in new long[] { 5, 10, 15, 20 }) Write(directory.Path, step, 1, keep: 2);

        var kept = Directory.GetDirectories(directory.Path).Select(path => Path.GetFileName(path)!).Order().ToArray();

        Assert.Equal<string[]>(["step-00000015", "step-00000020"], kept);
    }

    [Fact]
    public void Writing_a_shard_again_withdraws_the_old_manifest_of_that_step()
    {
        using var directory = new TempDirectory();
        Write(directory.Path, 10, 2);
        Write(directory.Path, 20, 2);
        CheckpointStore.WriteShard(directory.Path, 20, 0, writer => writer.Write(42L));

        Assert.Equal(10, CheckpointStore.LatestValid(directory.Path, out _)!.Step);
        Assert.Throws<DtrainException>(() => CheckpointStore.ReadManifest(directory.Path, 20));
    }

    /// <summary>
    /// A full disk, as /dev/full is (every write fails with ENOSPC), in the place of the file being written: the error
    /// names the file and the full disk in one line, leaves no temporary file, and the committed checkpoint stays whole.
    /// </summary>
    [Fact]
    public void A_write_to_a_full_disk_says_so_by_name_and_leaves_the_committed_checkpoint_whole()
    {
        using var directory = new TempDirectory();
        Write(directory.Path, 10, 2);
        string step20 = Directory.CreateDirectory(CheckpointStore.DirectoryOf(directory.Path, 20)).FullName;
        string shard = Path.Combine(step20, CheckpointStore.ShardName(0)), manifest = Path.Combine(step20, CheckpointStore.ManifestName);
        File.CreateSymbolicLink($"{shard}.tmp-{Environment.ProcessId}", "/dev/full");
        File.CreateSymbolicLink($"{manifest}.tmp-{Environment.ProcessId}", "/dev/full");

        var shardError = Assert.Throws<CheckpointWriteException>(() => CheckpointStore.WriteShard(directory.Path, 20, 0, writer => writer.Write(new byte[1 << 21])));
        string checksum = CheckpointStore.WriteShard(directory.Path, 20, 1, writer => writer.Write(7L));
        var manifestError = Assert.Throws<CheckpointWriteException>(() => CheckpointStore.Commit(directory.Path, new CheckpointManifest
        {
            FormatVersion = 1, Step = 20, WorldSize = 1, Shards = [new CheckpointShard { Rank = 0, File = CheckpointStore.ShardName(1), Checksum = checksum }],
        }, keep: 1));

        Assert.Equal($"cannot write checkpoint file {shard}: the disk is full (no space left on the device)", shardError.Message);
        Assert.Equal($"cannot write checkpoint file {manifest}: the disk is full (no space left on the device)", manifestError.Message);
        Assert.Equal<string[]>([Path.Combine(step20, CheckpointStore.ShardName(1))], Directory.GetFileSystemEntries(step20));
        Assert.Equal(10, CheckpointStore.LatestValid(directory.Path, out var skipped)!.Step);
        Assert.Empty(skipped);
    }

    [Fact]
    public void No_directory_means_no_checkpoint()
    {
        Assert.Null(CheckpointStore.LatestValid("/nonexistent/checkpoints", out var skipped));
        Assert.Empty(skipped);
    }
}
