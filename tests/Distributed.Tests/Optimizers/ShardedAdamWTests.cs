using Dtrain.Collectives;
using Dtrain.Collectives.Tensors;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Optimizers.Flat;
using Dtrain.Collectives.DataParallel;
using static TorchSharp.torch;

namespace Dtrain.Tests.Optimizers;

/// <summary>
/// ZeRO-1 against the replicated path on in-process ranks, each rank training its own copy on its own batches.
/// The replicated path all-reduces each whole flat gradient with the ring (forced: the test model is small enough
/// for recursive doubling), whose reduce-scatter is the one ZeRO-1 runs, so every element is summed in the same
/// order: the parameters, the moments and the clipping norms are bitwise equal on 2 and 3 ranks.
/// </summary>
public class ShardedAdamWTests
{
    private const int Steps = 5;
    private const double MaxNorm = 0.5;
    private static readonly AdamWOptions Options = new() { LearningRate = 0.01, WeightDecay = 0.05 };
    private static readonly CommunicatorOptions RingAllReduce = new() { AllReduceAlgorithm = AllReduceAlgorithm.Ring };

    private sealed record Trained(Tensor[] Values, AdamWState State, double[] Norms, long StateBytes);

    private static Task<Trained[]> OnRanksAsync(int ranks, Func<Communicator, Task<Trained>> train) =>
        Task.WhenAll(InProcessGroup.Create(ranks, RingAllReduce).Select(comm => Task.Run(() => train(comm))));

    private static async Task<Trained> ShardedAsync(Communicator comm, bool clip)
    {
        using var problem = new FlatProblem();
        using var flat = new FlatParameters(problem.Parameters, shards: comm.Size);
        using var zero = new ShardedAdamW(flat, comm, Options);
        var norms = new List<double>();
        for (int step = 0; step < Steps; step++)
        {
            flat.ZeroGrad();
            problem.Backward(step, comm.Rank);
            await zero.ReduceGradientsAsync();
            if (clip) norms.Add(await zero.ClipGradNormAsync(MaxNorm));
            await zero.StepAsync();
        }
        return new Trained(problem.Values(), await zero.GatherStateAsync(), [.. norms], zero.StateBytesPerRank);
    }

    /// <summary>The replicated path: <paramref name="average"/> the gradients, clip them if asked, then FlatAdamW.</summary>
    private static async Task<Trained> ReplicatedAsync(Communicator comm, bool clip, Func<FlatProblem, FlatParameters, Task> average)
    {
        using var problem = new FlatProblem();
        using var flat = new FlatParameters(problem.Parameters, shards: comm.Size);
        using var adamw = new FlatAdamW(flat, Options);
        var norms = new List<double>();
        for (int step = 0; step < Steps; step++)
        {
            flat.ZeroGrad();
            problem.Backward(step, comm.Rank);
            await average(problem, flat);
            if (clip) norms.Add(GradientClipping.ClipGradNorm(flat, MaxNorm));
            adamw.Step();
        }
        return new Trained(problem.Values(), adamw.State, [.. norms], adamw.StateBytes);
    }

    private static Func<FlatProblem, FlatParameters, Task> WholeBufferAllReduce(Communicator comm) => async (_, flat) =>
    {
        foreach (var group in flat.Groups) await comm.AllReduceAsync(group.Gradients, ReduceOp.Average);
    };

    private static void AssertEqual(Trained expected, Trained actual)
    {
        Bitwise.Equal(expected.Values, actual.Values, "parameter");
        Bitwise.Equal(expected.State.Parameters.Select(m => m.ExpAvg).ToArray(), actual.State.Parameters.Select(m => m.ExpAvg).ToArray(), "exp_avg");
        Bitwise.Equal(expected.State.Parameters.Select(m => m.ExpAvgSq).ToArray(), actual.State.Parameters.Select(m => m.ExpAvgSq).ToArray(), "exp_avg_sq");
        Assert.Equal(expected.State.Step, actual.State.Step);
        Assert.Equal(expected.Norms, actual.Norms);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Sharded_equals_a_ring_all_reduce_of_the_flat_gradients_then_flat_adamw_bitwise(int ranks)
    {
        var sharded = await OnRanksAsync(ranks, comm => ShardedAsync(comm, clip: true));
        var replicated = await OnRanksAsync(ranks, comm => ReplicatedAsync(comm, clip: true, WholeBufferAllReduce(comm)));

        for (int rank = 0; rank < ranks; rank++) AssertEqual(replicated[rank], sharded[rank]);
        Bitwise.Equal(sharded[0].Values, sharded[ranks - 1].Values, "parameter on the last rank");
        Assert.Contains(sharded[0].Norms, norm => norm > MaxNorm);   // clipping took part
        using var untrained = new FlatProblem();
        Assert.False(Bitwise.Same(untrained.Parameters[0], sharded[0].Values[0]));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Each_rank_holds_its_ceil_share_of_the_adam_state(int ranks)
    {
        var sharded = await OnRanksAsync(ranks, comm => ShardedAsync(comm, clip: false));
        var replicated = await OnRanksAsync(ranks, comm => ReplicatedAsync(comm, clip: false, WholeBufferAllReduce(comm)));

        long share = (103 + ranks - 1) / ranks * 2 * sizeof(float);   // 103 parameters, two moments each, float32
        Assert.All(sharded, r => Assert.Equal(share, r.StateBytes));
        Assert.All(replicated, r => Assert.Equal(ranks * share, r.StateBytes));
    }

    [Fact]
    public async Task On_two_ranks_sharded_equals_gradient_buckets_then_flat_adamw_bitwise()
    {
        // Each element's sum over two ranks is one addition, which commutes: the bucket boundaries and the
        // all-reduce algorithm cannot change it. On three ranks they can (see the class comment).
        var sharded = await OnRanksAsync(2, comm => ShardedAsync(comm, clip: false));
        var bucketed = await OnRanksAsync(2, comm => ReplicatedAsync(comm, clip: false, async (problem, _) =>
        {
            using var buckets = new GradientBuckets(problem.Parameters.Select((p, i) => ($"p{i}", p)), bucketBytes: 100, compressToBFloat16: false);
            Assert.True(buckets.Count > 1);
            await buckets.AverageAsync(comm, CancellationToken.None);
        }));

        for (int rank = 0; rank < 2; rank++) AssertEqual(bucketed[rank], sharded[rank]);
    }

    [Fact]
    public async Task State_saved_on_three_ranks_loads_on_two_ranks_and_on_one()
    {
        var saved = await OnRanksAsync(3, comm => ShardedAsync(comm, clip: false));
        using var stream = new MemoryStream();
        saved[0].State.Save(new BinaryWriter(stream));
        byte[] checkpoint = stream.ToArray();

        var reloaded = await Task.WhenAll(InProcessGroup.Create(2).Select(comm => Task.Run(async () =>
        {
            using var problem = new FlatProblem();
            using var flat = new FlatParameters(problem.Parameters, shards: 2);
            using var zero = new ShardedAdamW(flat, comm, Options);
            zero.LoadState(AdamWState.Load(new BinaryReader(new MemoryStream(checkpoint)), flat));
            return await zero.GatherStateAsync();
        })));
        using var single = new FlatProblem();
        using var singleFlat = new FlatParameters(single.Parameters);
        using var adamw = new FlatAdamW(singleFlat, Options);
        adamw.LoadState(AdamWState.Load(new BinaryReader(new MemoryStream(checkpoint)), singleFlat));

        foreach (var state in reloaded.Append(adamw.State))
        {
            Assert.Equal(Steps, state.Step);
            Bitwise.Equal(saved[0].State.Parameters.Select(m => m.ExpAvg).ToArray(), state.Parameters.Select(m => m.ExpAvg).ToArray(), "exp_avg");
            Bitwise.Equal(saved[0].State.Parameters.Select(m => m.ExpAvgSq).ToArray(), state.Parameters.Select(m => m.ExpAvgSq).ToArray(), "exp_avg_sq");
        }
    }

    [Fact]
    public void Parameters_flattened_for_another_world_size_are_refused()
    {
        var comm = InProcessGroup.Create(3)[0];
        using var problem = new FlatProblem();
        using var flat = new FlatParameters(problem.Parameters, shards: 2);

        var error = Assert.Throws<ArgumentException>(() => new ShardedAdamW(flat, comm, Options));

        Assert.Equal("the flat parameters are laid out for 2 shards, the group has 3 ranks: flatten them with shards: 3", error.Message);
    }
}
