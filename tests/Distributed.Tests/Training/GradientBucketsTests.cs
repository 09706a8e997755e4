using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Contracts.Jobs;
using Dtrain.Distributed;
using Dtrain.Training;
using Dtrain.Training.DataParallelTasks;
using Dtrain.Collectives.DataParallel;
using Dtrain.Optimizers.Flat;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Tests.Training;

public class GradientBucketsTests
{
    [Fact]
    public void Buckets_fill_from_the_last_parameter_and_a_large_one_stands_alone()
    {
        long[] bytes = [400, 100, 100, 900, 50, 50];
        var buckets = GradientBuckets.Assign(bytes, capacity: 300);
        Assert.Equal([[5, 4], [3], [2, 1], [0]], buckets);
        Assert.Equal([[5, 4, 3, 2, 1, 0]], GradientBuckets.Assign(bytes, capacity: 10_000));
    }

    [Fact]
    public void A_bucket_of_flat_gradients_is_reduced_in_the_flat_buffer_and_a_replaced_gradient_is_copied_in_and_back()
    {
        using var model = nn.Sequential(nn.Linear(6, 9), nn.Tanh(), nn.Linear(9, 4));
        using var flat = new FlatParameters(model.parameters());
        using var buckets = new GradientBuckets(model.named_parameters(), bucketBytes: 1 << 20, compressToBFloat16: false);
        var (replaced, kept) = (model.parameters().First(), model.parameters().Last());
        replaced.grad = ones_like(replaced);

        var packed = buckets[0].Pack();
        Assert.Equal(flat.Groups[0].Gradients.storage<float>().data_ptr(), packed.storage<float>().data_ptr());
        Assert.Equal(flat.Groups[0].Used, packed.numel());
        Assert.All(flat.ViewOf(flat.Slots[0], packed).data<float>().ToArray(), value => Assert.Equal(1f, value));
        packed.copy_(tensor(packed.data<float>().ToArray().Select(value => value + 1).ToArray()));   // what an all-reduce writes
        buckets[0].Unpack();
        Assert.All(replaced.grad.data<float>().ToArray(), value => Assert.Equal(2f, value));
        Assert.All(kept.grad!.data<float>().ToArray(), value => Assert.Equal(1f, value));
    }

    private static Task<TrainingResult[]> TrainAsync(int ranks, JobSpec job) =>
        Task.WhenAll(InProcessGroup.Create(ranks).Select(comm =>
            Task.Run(() => new DataParallelTrainer(comm, job, CPU).TrainAsync(null, CancellationToken.None))));

    [Fact]
    public async Task Many_small_buckets_give_every_rank_the_parameters_of_one_bucket_and_of_one_process()
    {
        var job = new JobSpec { Workers = 2, Steps = 20, BatchSize = 16, Seed = 3 };
        var manyBuckets = job with { BucketMegabytes = 0.01 };
        // The claim needs several buckets: the job's 0.01 MiB splits the default task's model into more than one, the default size does not.
        using (var model = new SyntheticClassificationTask(job, 0, 2).CreateModel())
        {
            using var split = new GradientBuckets(model.named_parameters(), DataParallelOptions.From(manyBuckets).BucketBytes, compressToBFloat16: false);
            using var whole = new GradientBuckets(model.named_parameters(), DataParallelOptions.From(job).BucketBytes, compressToBFloat16: false);
            Assert.True(split.Count > 1, $"{split.Count} bucket at 0.01 MiB");
            Assert.Equal(1, whole.Count);
        }
        var one = await TrainAsync(2, job);
        var many = await TrainAsync(2, manyBuckets);

        // With two ranks every element is one addition, whatever the bucket boundaries: equal bitwise, on both ranks.
        Assert.All(one.Concat(many), result => Assert.Equal(one[0].Parameters, result.Parameters));
        // Averaged, not summed or left alone: one process on the two ranks' batches together ends at the same point.
        var single = await TrainAsync(1, job with { Workers = 1, BatchSize = 32 });
        double difference = many[0].Parameters.Zip(single[0].Parameters, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(difference < 1e-4, $"two ranks with small buckets differ from one process by up to {difference}");
    }

    [Fact]
    public async Task Bfloat16_compression_still_learns_but_rounds_differently()
    {
        var job = new JobSpec { Workers = 2, Steps = 150, Seed = 4 };
        var exact = await TrainAsync(2, job);
        var compressed = await TrainAsync(2, job with { Compression = CompressionKind.Bf16 });

        Assert.Single(compressed.Select(r => r.ParameterDigest).Distinct());
        Assert.NotEqual(exact[0].ParameterDigest, compressed[0].ParameterDigest);
        Assert.True(compressed[0].TestAccuracy >= 0.95, $"held-out accuracy {compressed[0].TestAccuracy:P2}");
    }
}
