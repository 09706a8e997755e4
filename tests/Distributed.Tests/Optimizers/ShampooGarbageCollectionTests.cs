using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers.Shampoo;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Tests.Optimizers;

/// <summary>
/// Shampoo keeps every TorchSharp Scalar alive across its native call (see HeldScalars). With implicit Scalars,
/// a garbage collection on another thread freed them mid-call. In a small process this loop failed within a few
/// hundred steps every time; in the test host, whose larger heap makes each collection slower, it caught the old
/// code in about 1 run of 3. A stress test, then, not a proof: the proof is ImplicitScalarTests' scan of every call
/// site, so this one runs 300 steps, not the 1500 it ran before that scan existed.
/// </summary>
public class ShampooGarbageCollectionTests
{
    private const int Steps = 300;

    private static float[] Train(bool collectGarbageAlongside)
    {
        var generator = new Generator(11);
        var w = new Parameter(randn([6, 5], generator: generator));
        var c = new Parameter(randn([2, 3, 5], generator: generator));
        var x = randn([16, 6], generator: generator);
        var y = randn([16, 5], generator: generator);
        var options = new ShampooOptions
        {
            LearningRate = 0.01, Grafting = GraftingType.Adam, Momentum = 0.5, WeightDecay = 0.01,
            MaxPreconditionerDim = 4, Epsilon = 1e-6, PreconditionFrequency = 1,
        };
        var shampoo = new ShampooOptimizer([("w", w), ("c", c)], options);
        bool stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect(0);   // young collections only: cheap, so they come often
                GC.WaitForPendingFinalizers();
            }
        });
        if (collectGarbageAlongside) collector.Start();
        try
        {
            for (int i = 0; i < Steps; i++)
            {
                using var scope = NewDisposeScope();
                foreach (var p in new[] { w, c }) p.grad?.zero_();
                var error = x.matmul(w).tanh() * c.sum([0, 1]) - y;
                (error * error).mean().backward();   // pow(2) would pass an implicit Scalar itself
                shampoo.Step();
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            if (collectGarbageAlongside) collector.Join();
        }
        return cat([w.flatten(), c.flatten()]).detach().data<float>().ToArray();
    }

    [Fact]
    public void Steps_under_constant_garbage_collection_equal_undisturbed_steps()
    {
        var undisturbed = Train(collectGarbageAlongside: false);
        Assert.All(undisturbed, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(undisturbed, Train(collectGarbageAlongside: true));
    }
}
