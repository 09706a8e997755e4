using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Contracts.Jobs;
using Dtrain.Training;
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
    public async Task Many_small_buckets_give_the_same_parameters_as_one_bucket()
    {
        var job = new JobSpec { Workers = 2, Steps = 20, BatchSize = 16, Seed = 3 };
        var one = await TrainAsync(2, job);
        // 0.01 MiB buckets split the 21k-parameter MLP into several all-reduces.
        var many = await TrainAsync(2, job with { BucketMegabytes = 0.01 });
        // With two ranks every element is one addition, whatever the bucket boundaries: equal bitwise.
        Assert.Equal(one[0].Parameters, many[0].Parameters);
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
