using Dtrain.Collectives;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers.Flat;
using Dtrain.Tests.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Tests.Library;

/// <summary>The library's checkpoints of a user's module stepped by the flat optimizers, across world sizes.</summary>
public class JobCheckpointsTests
{
    private const int Steps = 4, Saved = 2;

    /// <summary>A seeded module of its own, with a parameter whose size no world size here divides.</summary>
    /// <remarks>The seed is process-wide: ranks (and other tests) that share this process take turns (TrainingSteps.CreateSeeded).</remarks>
    private static nn.Module<Tensor, Tensor> Model() =>
        TrainingSteps.CreateSeeded(17, () => nn.Sequential(("a", nn.Linear(5, 7)), ("relu", nn.ReLU()), ("b", nn.Linear(7, 3))));

    /// <summary>Steps <paramref name="from"/> to <paramref name="to"/> of a fixed, rank-independent problem: every rank takes the same step.</summary>
    private static async Task TrainAsync(nn.Module<Tensor, Tensor> model, FlatParameters flat, Func<Task> step, int from, int to)
    {
        for (int s = from; s < to; s++)
        {
            using var scope = NewDisposeScope();
            var generator = new Generator((ulong)(100 + s));
            var inputs = randn([8, 5], generator: generator);
            var targets = randint(0, 3, [8], generator: generator);
            flat.ZeroGrad();
            nn.functional.cross_entropy(model.call(inputs), targets).backward();
            await step();
        }
    }

    /// <summary>Trains on <paramref name="ranks"/> in-process ranks from the job's resume step, and returns rank 0's parameters' bytes.</summary>
    private static async Task<byte[]> ParametersAfterAsync(JobSpec job, int ranks, Func<Communicator, JobCheckpoints> checkpoints)
    {
        var results = await Task.WhenAll(InProcessGroup.Create(ranks).Select(comm => Task.Run(async () =>
        {
            using var model = Model();
            using var flat = new FlatParameters(model.parameters(), comm.Size);
            using var adam = new ShardedAdamW(flat, comm, new AdamWOptions { LearningRate = 0.05 });
            var store = checkpoints(comm);
            int step = store.Load(model, adam);
            Assert.Equal(job.Checkpoints.ResumeStep, step);
            await TrainAsync(model, flat, async () =>
            {
                await adam.ReduceGradientsAsync();
                await adam.StepAsync();
                if (store.IsDue(++step)) await store.SaveAsync(step, model, adam);
            }, step, job.Steps);
            return flat.Groups[0].Values.data<float>().ToArray();
        })));
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(results[0].AsSpan()).ToArray();
    }

    [Fact]
    public async Task A_zero1_checkpoint_written_on_two_ranks_resumes_on_one_where_the_uninterrupted_run_ends()
    {
        using var directory = new TempDirectory();
        var job = new JobSpec { Steps = Steps, Checkpoints = new() { Dir = directory.Path } };
        var reported = new System.Collections.Concurrent.ConcurrentBag<CheckpointShard>();
        static JobCheckpoints Unreported(JobSpec spec, Communicator comm) => new(spec, (_, _, _, _, _) => Task.CompletedTask, comm);

        // Every rank sees the same batch, and averaging two equal gradients is exact: 1 and 2 ranks take the same steps.
        var uninterrupted = await ParametersAfterAsync(job, 1, comm => Unreported(job, comm));
        var writing = job with { Steps = Saved, Checkpoints = job.Checkpoints with { Every = Saved } };
        await ParametersAfterAsync(writing, 2, comm => new JobCheckpoints(writing, (rank, _, file, checksum, _) =>
        {
            reported.Add(new CheckpointShard { Rank = rank, File = file, Checksum = checksum });
            return Task.CompletedTask;
        }, comm));
        CheckpointStore.Commit(directory.Path, new CheckpointManifest
        {
            FormatVersion = CheckpointManifest.CurrentFormatVersion, Step = Saved, WorldSize = 2, Shards = [.. reported.OrderBy(shard => shard.Rank)],
        }, keep: 1);
        var resuming = job with { Checkpoints = job.Checkpoints with { ResumeStep = Saved } };
        var resumed = await ParametersAfterAsync(resuming, 1, comm => Unreported(resuming, comm));
        Assert.Equal(uninterrupted, resumed);
        // The comparison can fail: two steps from scratch end elsewhere than the two steps resumed.
        var afresh = await ParametersAfterAsync(job with { Steps = Steps - Saved }, 1, comm => Unreported(job, comm));
        Assert.NotEqual(uninterrupted, afresh);
    }
}
