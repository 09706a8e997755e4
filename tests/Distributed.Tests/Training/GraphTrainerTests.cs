using Dtrain.Contracts;
using Dtrain.Contracts.Network;
using Dtrain.Contracts.Jobs;
using Dtrain.Graph.Generators;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Storage;
using Dtrain.Models;
using Dtrain.Optimizers;
using Dtrain.Tests.Collectives;
using Dtrain.Training;
using Dtrain.Training.GraphTasks;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Tests.Training;

/// <summary>
/// GraphSAGE trained by ranks in this process, each with a real Kestrel endpoint serving its partition and a gRPC
/// communicator, on the default generated graph (a stochastic block model partitioned by METIS).
/// </summary>
public class GraphTrainerTests
{
    private static readonly JobSpec Job = new() { Model = ModelKind.Graphsage, Steps = 60, BatchSize = 128, LearningRate = 0.01, Seed = 3, CollectiveTimeoutSeconds = 60 };

    /// <param name="owners">
    /// The rank holding each partition of the default graph cut into that many parts, as a shard map places them;
    /// null: one partition per rank, partition p on rank p.
    /// </param>
    private static async Task<TrainingResult[]> TrainAsync(int ranks, JobSpec job, int[]? owners = null)
    {
        owners ??= Enumerable.Range(0, ranks).ToArray();
        await using var group = await GrpcGroup.StartAsync(ranks);
        var servedAt = owners.Select(owner => group.Endpoints[owner].PeerAddress).ToArray();
        var graph = GraphInputs.Open(job, owners.Length);
        return await Task.WhenAll(Enumerable.Range(0, ranks).Select(rank => Task.Run(() =>
        {
            var peers = new GraphPeers(group.Graphs[rank], servedAt, "test-token", GrpcTls.None, TimeSpan.FromSeconds(60));
            var held = new HeldPartitions(Enumerable.Range(0, owners.Length).Where(p => owners[p] == rank).Select(graph.Load));
            return new GraphTrainer(group.Communicators[rank], job with { Workers = ranks }, CPU, held, peers).TrainAsync(null, default);
        })));
    }

    [Fact]
    public async Task Two_workers_reach_90_percent_and_clearly_beat_an_mlp_on_features_alone()
    {
        var results = await TrainAsync(2, Job);

        Assert.Equal(results[0].ParameterDigest, results[1].ParameterDigest);
        Assert.Equal(results[0].TestAccuracy, results[1].TestAccuracy);
        Assert.True(results[0].TestAccuracy >= 0.90, $"GraphSAGE test accuracy {results[0].TestAccuracy:P2}");
        double mlp = FeaturesOnlyMlpAccuracy(StochasticBlockModel.Generate(new StochasticBlockModelOptions { Seed = Job.Seed }));
        Assert.True(results[0].TestAccuracy - mlp >= 0.2, $"GraphSAGE {results[0].TestAccuracy:P2} vs MLP on features {mlp:P2}");
    }

    [Theory]
    [InlineData(GnnKind.SagePool)]
    [InlineData(GnnKind.Gat)]
    public async Task Pooling_and_attention_layers_learn_the_default_graph_too(GnnKind gnn)
    {
        var results = await TrainAsync(2, Job with { Graph = new() { Gnn = gnn } });

        Assert.Equal(results[0].ParameterDigest, results[1].ParameterDigest);
        Assert.True(results[0].TestAccuracy >= 0.90, $"{gnn} test accuracy {results[0].TestAccuracy:P2}");
    }

    [Fact]
    public async Task Link_prediction_ranks_held_out_edges_above_random_pairs()
    {
        var trained = await TrainAsync(2, Job with { Graph = new() { Task = GraphTaskKind.Link }, Steps = 150, BatchSize = 256 });
        var untrained = await TrainAsync(2, Job with { Graph = new() { Task = GraphTaskKind.Link }, Steps = 1, LearningRate = 1e-6, BatchSize = 256 });

        Assert.Equal(trained[0].ParameterDigest, trained[1].ParameterDigest);
        Assert.True(trained[0].TestAccuracy >= 0.80, $"held-out edges above their negative: {trained[0].TestAccuracy:P2}, untrained {untrained[0].TestAccuracy:P2}");
        Assert.True(trained[0].TestAccuracy - untrained[0].TestAccuracy >= 0.15,
            $"trained {trained[0].TestAccuracy:P2} vs untrained {untrained[0].TestAccuracy:P2}");
    }

    [Fact]
    public async Task The_same_seed_gives_bitwise_identical_parameters_and_another_seed_other_ones()
    {
        var job = Job with { Steps = 8 };
        var first = await TrainAsync(3, job);
        var second = await TrainAsync(3, job);
        var otherSeed = await TrainAsync(3, job with { Seed = 4 });

        Assert.Single(first.Concat(second).Select(r => r.ParameterDigest).Distinct());
        Assert.NotEqual(first[0].ParameterDigest, otherSeed[0].ParameterDigest);
    }

    [Fact]
    public async Task Partitions_placed_on_other_ranks_train_bitwise_like_partition_p_on_rank_p()
    {
        // Each partition's batches and samples follow the partition, not the rank holding it; two ranks' gradients
        // sum the same in either order.
        var job = Job with { Steps = 8 };
        var inOrder = await TrainAsync(2, job);
        var swapped = await TrainAsync(2, job, owners: [1, 0]);

        Assert.Single(inOrder.Concat(swapped).Select(r => r.ParameterDigest).Distinct());
        Assert.Equal(inOrder[0].TestAccuracy, swapped[0].TestAccuracy);
    }

    [Fact]
    public async Task Ranks_holding_several_partitions_learn_and_train_bitwise_alike_wherever_the_partitions_are_placed()
    {
        // Three partitions on two ranks: the rank holding two samples across both locally and serves both.
        var twoThenOne = await TrainAsync(2, Job, owners: [0, 0, 1]);
        var oneThenTwo = await TrainAsync(2, Job, owners: [1, 1, 0]);

        Assert.Single(twoThenOne.Concat(oneThenTwo).Select(r => r.ParameterDigest).Distinct());
        Assert.Equal(twoThenOne[0].TestAccuracy, oneThenTwo[0].TestAccuracy);
        Assert.True(twoThenOne[0].TestAccuracy >= 0.90, $"GraphSAGE test accuracy {twoThenOne[0].TestAccuracy:P2}");
    }

    [Fact]
    public async Task Ranks_holding_partitions_of_different_partitionings_are_refused()
    {
        var graph = StochasticBlockModel.Generate(new StochasticBlockModelOptions { Seed = Job.Seed });
        var metis = GraphPartitioner.Partition(graph, PartitionMethod.Metis, 2, Job.Seed);
        var random = GraphPartitioner.Partition(graph, PartitionMethod.Random, 2, Job.Seed);
        await using var group = await GrpcGroup.StartAsync(2);
        var addresses = group.Endpoints.Select(e => e.PeerAddress).ToArray();
        var partitions = new[] { metis.Partitions[0], random.Partitions[1] };

        var runs = Enumerable.Range(0, 2).Select(rank => Task.Run(() => new GraphTrainer(group.Communicators[rank], Job with { Workers = 2 }, CPU,
            new HeldPartitions([partitions[rank]]), new GraphPeers(group.Graphs[rank], addresses, "test-token", GrpcTls.None, TimeSpan.FromSeconds(60))).TrainAsync(null, default))).ToArray();

        foreach (var run in runs)
        {
            var refused = await Assert.ThrowsAsync<DtrainException>(() => run);
            Assert.StartsWith("the workers hold partitions of different partitionings", refused.Message);
        }
    }

    /// <summary>The baseline: an MLP of the same width trained on the training nodes' own features, no neighbours.</summary>
    private static double FeaturesOnlyMlpAccuracy(GraphData graph)
    {
        Tensor Rows(int[] nodes) => tensor(nodes.SelectMany(v => graph.FeaturesOf(v).ToArray()).ToArray(), [nodes.Length, graph.FeatureDim]);
        Tensor Labels(int[] nodes) => tensor(nodes.Select(v => (long)graph.Labels[v]).ToArray());
        var train = graph.NodesIn(NodeSplit.Train);
        var test = graph.NodesIn(NodeSplit.Test);
        torch.manual_seed(Job.Seed);
        using var model = new Mlp(graph.FeatureDim, GraphTrainer.HiddenWidth, 1, graph.ClassCount);
        using var adam = new HeldAdam(model.parameters(), Job.LearningRate);
        using var scope = NewDisposeScope();
        var (inputs, labels) = (Rows(train), Labels(train));
        // Full-batch epochs: more optimizer steps than GraphSAGE gets, so the MLP is not short of training.
        for (int epoch = 0; epoch < 300; epoch++)
        {
            model.zero_grad();
            nn.functional.cross_entropy(model.forward(inputs), labels).backward();
            adam.step();
        }
        using var noGrad = no_grad();
        return model.forward(Rows(test)).argmax(1).eq(Labels(test)).to(float64).mean().item<double>();
    }
}
