using Dtrain.Collectives;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Contracts.Jobs;
using Dtrain.Training;
using static TorchSharp.torch;

namespace Dtrain.Tests.Training;

public class DataParallelTrainerTests
{
    private static async Task<TrainingResult[]> TrainAsync(int ranks, JobSpec job)
    {
        var group = InProcessGroup.Create(ranks);
        return await Task.WhenAll(group.Select(comm =>
            Task.Run(() => new DataParallelTrainer(comm, job, CPU).TrainAsync(null, CancellationToken.None))));
    }

    [Fact]
    public async Task Two_ranks_at_batch_B_match_one_process_at_batch_2B()
    {
        var job = new JobSpec { Steps = 40, BatchSize = 32, Seed = 11, LearningRate = 0.01 };
        var distributed = await TrainAsync(2, job with { Workers = 2 });
        var single = await TrainAsync(1, job with { Workers = 1, BatchSize = 64 });

        var a = distributed[0].Parameters;
        var b = single[0].Parameters;
        Assert.Equal(b.Length, a.Length);
        double maxDifference = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(maxDifference < 1e-4, $"parameters differ by up to {maxDifference} after 40 steps");
        // The check above must be able to fail: training moved the parameters far more than the tolerance.
        var untrained = (await TrainAsync(1, job with { Workers = 1, BatchSize = 64, Steps = 1 }))[0].Parameters;
        Assert.True(a.Zip(untrained, (x, y) => Math.Abs(x - y)).Max() > 1e-2);
    }

    [Fact]
    public async Task The_same_seed_and_world_size_give_bitwise_identical_parameters_on_every_rank_and_run()
    {
        var job = new JobSpec { Workers = 3, Steps = 25, BatchSize = 16, Seed = 5 };
        var first = await TrainAsync(3, job);
        var second = await TrainAsync(3, job);

        Assert.Single(first.Concat(second).Select(r => r.ParameterDigest).Distinct());
        Assert.Equal(first[0].Parameters, second[2].Parameters);
        var otherSeed = await TrainAsync(3, job with { Seed = 6 });
        Assert.NotEqual(first[0].ParameterDigest, otherSeed[0].ParameterDigest);
    }

    [Fact]
    public async Task The_default_job_learns_the_task()
    {
        var result = await TrainAsync(2, new JobSpec { Workers = 2 });
        Assert.True(result[0].TestAccuracy >= 0.95, $"held-out accuracy {result[0].TestAccuracy:P2}");
        Assert.Equal(result[0].TestAccuracy, result[1].TestAccuracy);
    }
}
