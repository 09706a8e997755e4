using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Tests.Graph;
using Dtrain.Training;
using static TorchSharp.torch;

namespace Dtrain.Tests.Training;

/// <summary>ZeRO-1 in the built-in data-parallel job (--shard-optimizer-state) against the replicated Adam.</summary>
public class ShardedOptimizerStateTests
{
    private static async Task<TrainingResult[]> TrainAsync(JobSpec job, Func<int, DataParallelCheckpoint?>? checkpoints = null) =>
        await Task.WhenAll(InProcessGroup.Create(job.Workers).Select(comm =>
            Task.Run(() => new DataParallelTrainer(comm, job, CPU, checkpoints?.Invoke(comm.Rank)).TrainAsync(null, CancellationToken.None))));

    [Fact]
    public async Task On_two_ranks_zero1_ends_bitwise_where_the_replicated_adam_ends()
    {
        var job = new JobSpec { Workers = 2, Steps = 30, BatchSize = 16, Seed = 7, LearningRate = 0.01 };
        var replicated = await TrainAsync(job);
        var sharded = await TrainAsync(job with { ShardOptimizerState = true });
        Assert.Equal(replicated[0].ParameterDigest, sharded[0].ParameterDigest);
        Assert.Equal(sharded[0].ParameterDigest, sharded[1].ParameterDigest);
    }

    [Fact]
    public async Task A_zero1_job_resumed_from_its_checkpoint_on_three_ranks_ends_where_the_uninterrupted_job_ends()
    {
        using var directory = new TempDirectory();
        var job = new JobSpec { Workers = 3, Steps = 24, BatchSize = 16, Seed = 3, ShardOptimizerState = true, Checkpoints = new() { Dir = directory.Path, Every = 12 } };
        var uninterrupted = await TrainAsync(job with { Checkpoints = job.Checkpoints with { Every = 0 } });
        // No coordinator here: the shards reported are committed as its catalog would, once all three are in.
        var reported = new System.Collections.Concurrent.ConcurrentBag<CheckpointShard>();
        await TrainAsync(job with { Steps = 12 }, _ => new DataParallelCheckpoint(job, (rank, step, file, checksum, _) =>
        {
            reported.Add(new CheckpointShard { Rank = rank, File = file, Checksum = checksum });
            return Task.CompletedTask;
        }));
        CheckpointStore.Commit(directory.Path, new CheckpointManifest
        {
            FormatVersion = CheckpointManifest.CurrentFormatVersion, Step = 12, WorldSize = 3, Shards = [.. reported.OrderBy(shard => shard.Rank)],
        }, keep: 1);
        var resumed = job with { Checkpoints = job.Checkpoints with { ResumeStep = 12 } };
        var after = await TrainAsync(resumed, _ => new DataParallelCheckpoint(resumed, (_, _, _, _, _) => Task.CompletedTask));
        Assert.Equal(uninterrupted[0].ParameterDigest, after[0].ParameterDigest);
    }
}
