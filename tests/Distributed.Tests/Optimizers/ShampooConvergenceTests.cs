using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers;
using Dtrain.Optimizers.Shampoo;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Dtrain.Tests.Optimizers;

/// <summary>
/// Shampoo against AdamW with a tuned learning rate on a problem where second-order preconditioning matters:
/// a linear regression whose features are ill-conditioned along random, not axis-aligned, directions.
/// </summary>
public class ShampooConvergenceTests(ITestOutputHelper output)
{
    private const int Samples = 256, Features = 32, Outputs = 8;
    /// <summary>Features are scaled from 1 down to this along rotated directions: cond(XᵀX) ≈ 1.1e5.</summary>
    private const double SmallestScale = 3e-3;
    /// <summary>The target: the loss at W = 0 times this. The labels are noiseless, so the floor is 0.</summary>
    private const double TargetFraction = 1e-5;
    /// <summary>Most steps any run may take; the best AdamW rate needs under half of it.</summary>
    private const int Budget = 3000;
    /// <summary>
    /// About half the measured ratio: 10.3 here; 8.7 against AdamW's best of a 20-per-decade sweep of 0.18..1
    /// (988 steps at 0.50); 12 to 13.5 with three other data seeds.
    /// </summary>
    private const double MinimumRatio = 5;

    /// <summary>Both optimizers get the same grid: 1e-2 to 10^0.5 in half decades.</summary>
    private static readonly double[] Rates = Enumerable.Range(0, 6).Select(i => Math.Pow(10, -2 + 0.5 * i)).ToArray();

    /// <summary>
    /// X = Z diag(s) Q with Z Gaussian, s log-spaced from 1 to <see cref="SmallestScale"/> and Q a random orthogonal
    /// matrix (QR of a Gaussian): XᵀX ≈ n Qᵀ diag(s²) Q has the spectrum of an axis-aligned problem, but in a
    /// basis where Adam's diagonal second moment cannot undo it, while Shampoo's full factors L = Σ GGᵀ and
    /// R = Σ GᵀG (G = 2XᵀX(W - W*)/(n k)) turn with it. Y = X W* exactly; loss = mean((XW - Y)²).
    /// </summary>
    private static (Tensor X, Tensor Y) Problem()
    {
        var generator = new Generator(2024);
        var rotation = linalg.qr(randn([Features, Features], generator: generator)).Q;
        var scales = logspace(0, Math.Log10(SmallestScale), Features);
        var x = (randn([Samples, Features], generator: generator) * scales).matmul(rotation);
        var truth = randn([Features, Outputs], generator: generator);
        return (x, x.matmul(truth));
    }

    /// <summary>
    /// Trains one model per learning rate of <see cref="Rates"/> side by side from W = 0 and returns the first step
    /// count at which any of them has reached the target loss, with the rates that did: the best of the grid,
    /// without running the others past it. Null if none reaches it within <see cref="Budget"/>.
    /// </summary>
    private static (int Steps, double[] Rates)? StepsToTarget(Func<Parameter, double, (Action Step, IDisposable Optimizer)> create)
    {
        var (x, y) = Problem();
        var all = Rates.Select(lr =>
        {
            var w = new Parameter(zeros([Features, Outputs]));
            var (step, optimizer) = create(w, lr);
            return (lr, w, step, optimizer);
        }).ToArray();
        var runs = all.ToList();
        using var s = new HeldScalars();
        var two = s.Of(2);
        double target = TargetFraction * y.pow(two).mean().item<float>();
        try
        {
            for (int steps = 0; steps <= Budget; steps++)
            {
                var losses = new double[runs.Count];
                for (int i = 0; i < runs.Count; i++)
                {
                    using var scope = NewDisposeScope();
                    runs[i].w.grad?.zero_();
                    var loss = (x.matmul(runs[i].w) - y).pow(two).mean();
                    losses[i] = loss.item<float>();
                    loss.backward();
                }
                var reached = runs.Where((_, i) => losses[i] <= target).Select(r => r.lr).ToArray();
                if (reached.Length > 0) return (steps, reached);
                runs = runs.Where((_, i) => double.IsFinite(losses[i])).ToList();   // a diverged rate is out
                foreach (var run in runs) run.step();
            }
            return null;
        }
        finally
        {
            foreach (var run in all) run.optimizer.Dispose();
        }
    }

    private static (Action, IDisposable) AdamW(Parameter w, double lr)
    {
        var adamw = optim.AdamW([w], lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0);
        return (() => TorchOracle.Step(adamw), adamw);
    }

    /// <summary>
    /// Adam grafting with AdamW's own betas and eps, so that the only difference is the direction; factors
    /// accumulated (beta2 = 1, the reference's default) and refreshed every step; W [32, 8] stays one block with
    /// a 32 x 32 and an 8 x 8 factor. Epsilon barely matters here (1e-12 to 1e-6 gave 108 to 131 steps over three
    /// other data seeds).
    /// </summary>
    private static readonly ShampooOptions Options = new()
    {
        Beta1 = 0.9,
        Beta2 = 1.0,
        Epsilon = 1e-10,
        Grafting = GraftingType.Adam,
        GraftingBeta2 = 0.999,
        GraftingEpsilon = 1e-8,
        PreconditionFrequency = 1,
        MaxPreconditionerDim = Features,
    };

    private static Func<Parameter, double, (Action, IDisposable)> Shampoo(ShampooOptions options) => (w, lr) =>
    {
        var shampoo = new ShampooOptimizer([("w", w)], options with { LearningRate = lr });
        return (shampoo.Step, shampoo);
    };

    /// <summary>
    /// Measured: AdamW reaches the target in 1173 steps at its best rate 10^-0.5 ≈ 0.32 (1.0 is slower, 3.2 does not
    /// get there), Shampoo in 114 steps at 1.0: 10.3 times fewer. With preconditioning switched off
    /// (StartPreconditioningStep = long.MaxValue: Adam grafting alone, i.e. AdamW) "Shampoo" needs 1140 steps at
    /// 0.32, ratio 1.0, and this fails.
    /// </summary>
    [Fact]
    public void Shampoo_needs_several_times_fewer_steps_than_tuned_adamw_on_a_rotated_ill_conditioned_regression()
    {
        var adamw = StepsToTarget(AdamW);
        Assert.True(adamw is not null, $"AdamW did not reach the target within {Budget} steps at any rate");
        Assert.True(adamw.Value.Rates.All(lr => lr > Rates[0] && lr < Rates[^1]),
            $"AdamW's best rate {string.Join(", ", adamw.Value.Rates)} lies on the grid's edge: the grid does not tune it");

        var shampoo = StepsToTarget(Shampoo(Options));
        Assert.True(shampoo is not null, $"Shampoo did not reach the target within {Budget} steps (AdamW: {adamw.Value.Steps})");

        string measured = $"Shampoo took {shampoo.Value.Steps} steps (lr {string.Join(", ", shampoo.Value.Rates.Select(r => r.ToString("G3")))}), " +
            $"AdamW {adamw.Value.Steps} (lr {string.Join(", ", adamw.Value.Rates.Select(r => r.ToString("G3")))}): " +
            $"ratio {(double)adamw.Value.Steps / shampoo.Value.Steps:F1}";
        output.WriteLine(measured);
        Assert.True(shampoo.Value.Steps * MinimumRatio <= adamw.Value.Steps, $"{measured}, expected at least {MinimumRatio}");
    }
}
