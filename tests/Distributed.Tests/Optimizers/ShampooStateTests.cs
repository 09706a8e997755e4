using Dtrain.Contracts.Jobs;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Contracts;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Shampoo;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Tests.Optimizers;

/// <summary>Save, step, load: the state round-trips and training resumes identically, also on another world size.</summary>
public class ShampooStateTests
{
    private static readonly ShampooOptions Options = new()
    {
        LearningRate = 0.05, Grafting = GraftingType.Adam, GraftingEpsilon = 1e-8, MaxPreconditionerDim = 4,
        Epsilon = 1e-6, PreconditionFrequency = 2, Momentum = 0.5,
    };

    /// <summary>Parameters and data of a small regression, seeded; every copy computes the same gradients.</summary>
    private sealed class Problem
    {
        private readonly Tensor x, y;

        public Problem(float[]? values = null)
        {
            var generator = new Generator(21);
            // At max_preconditioner_dim 4, w's and b's blocks come in equal shapes and are stacked.
            Parameters = [("w", new Parameter(randn([6, 9], generator: generator))), ("b", new Parameter(randn([9], generator: generator))), ("c", new Parameter(randn([2, 3, 9], generator: generator)))];
            x = randn([16, 6], generator: generator);
            y = randn([16, 9], generator: generator);
            if (values is not null)
            {
                using var noGrad = no_grad();
                long offset = 0;
                foreach (var (_, p) in Parameters)
                {
                    p.copy_(tensor(values.AsSpan((int)offset, (int)p.numel()).ToArray()).view(p.shape));
                    offset += p.numel();
                }
            }
        }

        public (string, Parameter)[] Parameters { get; }

        public void ComputeGradients()
        {
            foreach (var (_, p) in Parameters) p.grad?.zero_();
            var (w, b, c) = (Parameters[0].Item2, Parameters[1].Item2, Parameters[2].Item2);
            using var s = new HeldScalars();
            (x.matmul(w).add(b, s.Of(1)).tanh() * c.sum(new long[] { 0, 1 }) - y).pow(s.Of(2)).mean().backward();
        }

        public float[] Values() => cat(Parameters.Select(p => p.Item2.detach().flatten()).ToArray()).data<float>().ToArray();
    }

    private static void Steps(Problem problem, ShampooOptimizer shampoo, int count)
    {
        for (int i = 0; i < count; i++)
        {
            problem.ComputeGradients();
            shampoo.StepAsync().GetAwaiter().GetResult();
        }
    }

    /// <summary>Every rank of a group trains <paramref name="steps"/> steps, then saves its shard.</summary>
    private static Task<(float[] Values, byte[] Shard)[]> TrainAndSaveAsync(int ranks, int steps) =>
        Task.WhenAll(InProcessGroup.Create(ranks).Select(comm => Task.Run(() =>
        {
            var problem = new Problem();
            using var shampoo = new ShampooOptimizer(problem.Parameters, Options, comm);
            Steps(problem, shampoo, steps);
            var shard = new MemoryStream();
            shampoo.SaveState(shard);
            return (problem.Values(), shard.ToArray());
        })));

    [Fact]
    public void Save_step_load_resumes_bitwise_in_one_process()
    {
        var problem = new Problem();
        using var shampoo = new ShampooOptimizer(problem.Parameters, Options);
        Steps(problem, shampoo, 5);
        var saved = new MemoryStream();
        shampoo.SaveState(saved);
        var savedValues = problem.Values();
        Steps(problem, shampoo, 3);

        var resumed = new Problem(savedValues);
        using var reloaded = new ShampooOptimizer(resumed.Parameters, Options);
        saved.Position = 0;
        reloaded.LoadState([saved]);
        Assert.Equal(5, reloaded.StepCount);
        Steps(resumed, reloaded, 3);

        Assert.Equal(problem.Values(), resumed.Values());
        Assert.NotEqual(savedValues, resumed.Values());
    }

    [Fact]
    public async Task State_saved_by_two_ranks_loads_onto_three_and_continues_like_one_process()
    {
        // Two ranks train 5 steps and save their shards.
        var shards = await TrainAndSaveAsync(2, 5);

        // One process runs all 8 steps as the reference.
        var reference = new Problem();
        using (var single = new ShampooOptimizer(reference.Parameters, Options)) Steps(reference, single, 8);

        // Three ranks load both shards and take the last 3 steps.
        var three = InProcessGroup.Create(3);
        var results = await Task.WhenAll(three.Select(comm => Task.Run(() =>
        {
            var problem = new Problem(shards[0].Values);
            using var shampoo = new ShampooOptimizer(problem.Parameters, Options, comm);
            shampoo.LoadState(shards.Select(s => new MemoryStream(s.Shard)));
            Steps(problem, shampoo, 3);
            return problem.Values();
        })));

        Assert.All(results, values => Assert.Equal(reference.Values(), values));
    }

    [Fact]
    public async Task Missing_blocks_and_foreign_files_are_named()
    {
        // Rank 0 of 2 saves only its own blocks: alone they cannot restore a single process.
        var shards = await TrainAndSaveAsync(2, 1);
        var problem = new Problem();
        using var shampoo = new ShampooOptimizer(problem.Parameters, Options);
        var missing = Assert.Throws<DtrainException>(() => shampoo.LoadState([new MemoryStream(shards[0].Shard)]));
        Assert.StartsWith("the state shards hold no state for block(s) ", missing.Message);

        var error = Assert.Throws<DtrainException>(() => shampoo.LoadState([new MemoryStream(System.Text.Encoding.UTF8.GetBytes("\u0005hello"))]));
        Assert.Equal($"not a Shampoo state of format version {1}", error.Message);
        Assert.Equal("no state shards were given", Assert.Throws<DtrainException>(() => shampoo.LoadState([])).Message);
    }
}
