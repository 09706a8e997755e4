using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Models;
using Dtrain.Models.Data;
using Dtrain.Models.Transformer;
using Dtrain.Tests.Collectives;
using Dtrain.Training;
using Dtrain.Collectives.DataParallel;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Dtrain.Tests.Training;

public class OverlappedGradientSyncTests(ITestOutputHelper output)
{
    /// <summary>0.01 MiB buckets split the 21k-parameter MLP into several all-reduces.</summary>
    private static readonly JobSpec Job = new() { Workers = 3, Steps = 5, BatchSize = 16, Seed = 7, BucketMegabytes = 0.01 };

    private static Task<TrainingResult[]> TrainAsync(IReadOnlyList<Communicator> group, JobSpec job) =>
        Task.WhenAll(group.Select(comm => Task.Run(() => new DataParallelTrainer(comm, job, CPU).TrainAsync(null, CancellationToken.None))));

    private static void AssertSameParameters(TrainingResult[] overlapped, TrainingResult[] after)
    {
        Assert.Single(overlapped.Select(r => r.ParameterDigest).Distinct());
        Assert.Equal(after[0].Parameters, overlapped[0].Parameters);
    }

    [Theory]
    [InlineData(OptimizerKind.Adam, CompressionKind.None)]
    [InlineData(OptimizerKind.Adam, CompressionKind.Bf16)]
    [InlineData(OptimizerKind.Shampoo, CompressionKind.None)]
    public async Task Overlapping_backward_gives_bitwise_the_parameters_of_averaging_after_it(OptimizerKind optimizer, CompressionKind compression)
    {
        var job = Job with { Optimizer = optimizer, Compression = compression };
        var overlapped = await TrainAsync(InProcessGroup.Create(3), job);
        var after = await TrainAsync(InProcessGroup.Create(3), job with { Overlap = false });
        AssertSameParameters(overlapped, after);
    }

    [Fact]
    public async Task Over_grpc_overlapping_backward_gives_bitwise_the_parameters_of_averaging_after_it()
    {
        var job = Job with { Workers = 2 };
        TrainingResult[] overlapped, after;
        await using (var group = await GrpcGroup.StartAsync(2)) overlapped = await TrainAsync(group.Communicators, job);
        await using (var group = await GrpcGroup.StartAsync(2)) after = await TrainAsync(group.Communicators, job with { Overlap = false });
        AssertSameParameters(overlapped, after);
    }

    /// <summary>Layer norms, residual connections and embeddings (whose input, token ids, carries no gradient).</summary>
    [Fact]
    public async Task The_transformer_lm_trains_bitwise_alike_with_and_without_overlap()
    {
        var tokens = new SyntheticTokens(seed: 2, vocabulary: 32);
        async Task<float[]> TrainAsync(bool overlap)
        {
            var job = new JobSpec { Workers = 2, LearningRate = 0.01, BucketMegabytes = 0.02, Overlap = overlap };
            var ranks = await Task.WhenAll(InProcessGroup.Create(2).Select(comm => Task.Run(async () =>
            {
                using var model = TrainingSteps.CreateSeeded(3, () => new TransformerLm(vocabulary: 32, context: 8, width: 32, layers: 2, heads: 2));
                using var optimizer = await ReplicatedOptimizer.CreateAsync(model, comm, job, CancellationToken.None);
                for (int step = 0; step < 3; step++)
                {
                    var (inputs, targets) = tokens.Batch(Enumerable.Range((step * 2 + comm.Rank) * 4, 4).Select(i => (long)i).ToArray(), 8, CPU);
                    await DataParallelStep.RunAsync(model, optimizer, inputs, targets, CancellationToken.None);
                }
                return TrainingSteps.Flatten(model);
            })));
            Assert.Equal(ranks[0], ranks[1]);
            return ranks[0];
        }
        Assert.Equal(await TrainAsync(overlap: false), await TrainAsync(overlap: true));
    }

    /// <summary>
    /// The buckets, from the head backwards: each starts when backward reaches its layers, except the one holding
    /// the first layer's parameters, whose input (the data, or token ids) carries no gradient back: it starts after backward.
    /// </summary>
    [Theory]
    [InlineData("mlp")]
    [InlineData("transformer-lm")]
    public async Task The_first_bucket_starts_its_all_reduce_before_backward_returns(string modelName)
    {
        var classification = new SyntheticClassification(seed: 5);
        var tokens = new SyntheticTokens(seed: 5, vocabulary: 32);
        var timings = await Task.WhenAll(InProcessGroup.Create(2).Select(comm => Task.Run(async () =>
        {
            var samples = Enumerable.Range(comm.Rank * 16, 16).Select(i => (long)i).ToArray();
            var (model, (inputs, targets)) = modelName == "mlp"
                ? (TrainingSteps.CreateSeeded<nn.Module<Tensor, Tensor>>(5, () => new Mlp(classification.Features, 128, 2, classification.Classes)), classification.Batch(samples, CPU))
                : (TrainingSteps.CreateSeeded<nn.Module<Tensor, Tensor>>(5, () => new TransformerLm(vocabulary: 32, context: 8, width: 32, layers: 2, heads: 2)), tokens.Batch(samples, 8, CPU));
            using var disposeModel = model;
            using var buckets = new GradientBuckets(model.named_parameters(), bucketBytes: 20_000, compressToBFloat16: false);
            using var sync = new OverlappedGradientSync(model, buckets, comm, CancellationToken.None);
            long backwardReturned;
            using (var scope = NewDisposeScope())
            {
                nn.functional.cross_entropy(model.forward(inputs).flatten(0, -2), targets.flatten()).backward();
                backwardReturned = Stopwatch.GetTimestamp();
            }
            await sync.FinishAsync();
            return (Buckets: buckets.Count, Started: sync.ReduceStarted.ToArray(), BackwardReturned: backwardReturned);
        })));

        foreach (var (count, started, backwardReturned) in timings)
        {
            Assert.True(count > 2, $"{count} buckets");
            double Before(long timestamp) => Stopwatch.GetElapsedTime(timestamp, backwardReturned).TotalMilliseconds;
            output.WriteLine($"{count} buckets; all-reduces started, in ms before backward returned: {string.Join(", ", started.Select(s => $"{Before(s):0.000}"))}");
            Assert.True(started[0] < backwardReturned, $"the first all-reduce started {-Before(started[0]):0.000} ms after backward returned");
            Assert.True(started[^1] > backwardReturned, "the first layer's bucket started before backward returned");
        }
    }

    /// <summary>The gradients are packed inside backward with overlap: a .NET exception there must reach the step, not end the process.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_parameter_without_a_gradient_fails_the_step_with_its_name(bool overlap)
    {
        var data = new SyntheticClassification(seed: 6);
        var job = new JobSpec { Workers = 2, Overlap = overlap };
        var failures = await Task.WhenAll(InProcessGroup.Create(2).Select(comm => Task.Run(async () =>
        {
            using var model = TrainingSteps.CreateSeeded(6, () => new Mlp(data.Features, 16, 1, data.Classes));
            model.named_parameters().Single(p => p.name == "layers.head.bias").parameter.requires_grad_(false);
            using var optimizer = await ReplicatedOptimizer.CreateAsync(model, comm, job, CancellationToken.None);
            var (inputs, labels) = data.Batch([0, 1, 2, 3], CPU);
            return await Assert.ThrowsAsync<DtrainException>(() => DataParallelStep.RunAsync(model, optimizer, inputs, labels, CancellationToken.None));
        })));
        Assert.All(failures, e => Assert.StartsWith("parameter layers.head.bias has no gradient", e.Message));
    }

    [Fact]
    public async Task A_peer_lost_while_backward_overlaps_its_all_reduces_fails_the_step_of_the_survivor()
    {
        var data = new SyntheticClassification(seed: 8);
        await using var group = await GrpcGroup.StartAsync(2, new CommunicatorOptions { Timeout = TimeSpan.FromSeconds(30) });
        var job = new JobSpec { Workers = 2, BucketMegabytes = 0.01 };
        var models = group.Communicators.Select(_ => TrainingSteps.CreateSeeded(8, () => new Mlp(data.Features, 32, 2, data.Classes))).ToArray();
        var optimizers = await Task.WhenAll(group.Communicators.Select((comm, rank) => ReplicatedOptimizer.CreateAsync(models[rank], comm, job, CancellationToken.None)));
        try
        {
            var (inputs, labels) = data.Batch([0, 1, 2, 3], CPU);
            // A first step together opens the streams between the ranks; then rank 1 dies.
            await Task.WhenAll(optimizers.Select((optimizer, rank) => Task.Run(() => DataParallelStep.RunAsync(models[rank], optimizer, inputs, labels, CancellationToken.None))));
            group.Transports[1].Abort();

            var lost = await Assert.ThrowsAnyAsync<CollectiveException>(
                () => Task.Run(() => DataParallelStep.RunAsync(models[0], optimizers[0], inputs, labels, CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(60)));
            output.WriteLine(lost.Message);
        }
        finally
        {
            foreach (var optimizer in optimizers) optimizer.Dispose();
            foreach (var model in models) model.Dispose();
        }
    }
}
