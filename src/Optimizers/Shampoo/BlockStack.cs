using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers.Shampoo.Preconditioner;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Shampoo;

/// <summary>Names a block in errors: "layer.weight block 3".</summary>
internal sealed record BlockName(string Parameter, int Index)
{
    public override string ToString() => $"{Parameter} block {Index}";
}

/// <summary>
/// The state of equal-shaped preconditioner blocks, stacked along a leading dim: per preconditioned dim a factor
/// and its inverse root, [count, d, d]; the grafting second moment, the first moment and the momentum buffer,
/// [count, shape…]. A step of all of them is a handful of batched ops (bmm for the factors and the
/// preconditioning), not a handful per block. Only the inverse roots are computed block by block: each may fail
/// on its own. Tensors live outside any dispose scope and are freed by <see cref="Dispose"/>.
/// </summary>
internal sealed class BlockStack : IDisposable
{
    private readonly ShampooOptions options;
    private readonly OptionScalars constants;
    private readonly long[] shape;
    private readonly double[] exponents;
    private readonly ScalarType factorType;
    /// <summary>Per dim; null where the dim's inverse exponent is 0 (not preconditioned).</summary>
    private readonly Tensor?[] factors, inverseRoots;
    private readonly Tensor? graftingMoment, firstMoment, momentum;
    /// <summary>Per block, whether every gradient since the last root computation was finite; read only at root computations.</summary>
    private readonly Tensor finiteGradients;
    private readonly int[] failures;
    private readonly BlockName[] names;
    private long checkedThrough;

    /// <param name="names">Each block's name in errors: its parameter and number.</param>
    /// <param name="shape">The blocks' shape.</param>
    /// <param name="like">A tensor with the blocks' dtype and device.</param>
    public BlockStack(IReadOnlyList<BlockName> names, long[] shape, Tensor like, ShampooOptions options, OptionScalars constants)
    {
        this.options = options;
        this.constants = constants;
        this.shape = shape;
        this.names = [.. names];
        failures = new int[names.Count];
        long count = names.Count;
        exponents = shape.Select((_, k) => options.InverseExponent(shape.Length, k)).ToArray();
        factorType = options.FactorMatrixDtype == Precision.Fp64 ? ScalarType.Float64 : ScalarType.Float32;
        factors = shape.Select((d, k) => exponents[k] == 0 ? null : zeros([count, d, d], factorType, like.device).DetachFromDisposeScope()).ToArray();
        inverseRoots = shape.Select((d, k) => exponents[k] == 0 ? null
            : eye(d, dtype: factorType, device: like.device).expand(count, d, d).contiguous().DetachFromDisposeScope()).ToArray();
        long[] stacked = [count, .. shape];
        graftingMoment = HasGraftingMoment(options) ? zeros(stacked, like.dtype, like.device).DetachFromDisposeScope() : null;
        firstMoment = options.Beta1 != 0 ? zeros(stacked, like.dtype, like.device).DetachFromDisposeScope() : null;
        momentum = options.Momentum != 0 ? zeros(stacked, like.dtype, like.device).DetachFromDisposeScope() : null;
        finiteGradients = ones(count, ScalarType.Bool, like.device).DetachFromDisposeScope();
    }

    /// <summary>The rows <paramref name="rows"/> of <paramref name="whole"/>, copied.</summary>
    private BlockStack(BlockStack whole, Tensor rows, int[] picked)
    {
        (options, constants, shape, exponents, factorType, checkedThrough) =
            (whole.options, whole.constants, whole.shape, whole.exponents, whole.factorType, whole.checkedThrough);
        names = picked.Select(r => whole.names[r]).ToArray();
        failures = picked.Select(r => whole.failures[r]).ToArray();
        Tensor? Pick(Tensor? t) => t?.index_select(0, rows).DetachFromDisposeScope();
        factors = whole.factors.Select(Pick).ToArray();
        inverseRoots = whole.inverseRoots.Select(Pick).ToArray();
        (graftingMoment, firstMoment, momentum) = (Pick(whole.graftingMoment), Pick(whole.firstMoment), Pick(whole.momentum));
        finiteGradients = Pick(whole.finiteGradients)!;
    }

    public int Count => names.Length;

    private static bool HasGraftingMoment(ShampooOptions options) => options.Grafting is GraftingType.Adagrad or GraftingType.Rmsprop or GraftingType.Adam;

    /// <summary>How many state tensors a block of <paramref name="shape"/> holds in a checkpoint (<see cref="BlockState"/>).</summary>
    public static int StateTensorCount(long[] shape, ShampooOptions options) =>
        2 * shape.Where((_, k) => options.InverseExponent(shape.Length, k) != 0).Count()
        + (HasGraftingMoment(options) ? 1 : 0) + (options.Beta1 != 0 ? 1 : 0) + (options.Momentum != 0 ? 1 : 0);

    /// <summary>
    /// The search directions of one step, -lr × P per block, in the blocks' dtype.
    /// </summary>
    /// <param name="gradients">The blocks' gradients, [count, shape…], L2 weight decay already added.</param>
    /// <param name="weights">The blocks' current values; needed only when the step has a direction decay.</param>
    /// <param name="rows">The blocks that have a gradient this step, when not all do: only their state moves.</param>
    public Tensor SearchDirections(Tensor gradients, Tensor? weights, StepScalars step, int[]? rows = null)
    {
        if (rows is null) return SearchDirections(gradients, weights, step);
        using var index = tensor(rows.Select(r => (long)r).ToArray(), ScalarType.Int64, finiteGradients.device);
        using var part = new BlockStack(this, index, rows);
        try
        {
            return part.SearchDirections(gradients, weights, step);
        }
        finally
        {
            foreach (var (mine, its) in AllTensors().Zip(part.AllTensors())) mine.index_copy_(0, index, its);
            for (int i = 0; i < rows.Length; i++) failures[rows[i]] = part.failures[i];
            checkedThrough = part.checkedThrough;
        }
    }

    /// <remarks>
    /// <paramref name="gradients"/> is a stacked copy that the step owns; it is overwritten, as are the other
    /// temporaries: in-place ops save a fresh allocation (and its page faults, on the CPU) per op.
    /// </remarks>
    private Tensor SearchDirections(Tensor gradients, Tensor? weights, StepScalars step)
    {
        finiteGradients.logical_and_(isfinite(gradients).flatten(1).all(1));
        if (step.Amortized) ThrowIfAGradientWasNotFinite(step.Number);
        UpdateFactors(gradients);
        UpdateGraftingMoment(gradients);
        if (step.Amortized) ComputeInverseRoots(step);

        var filtered = FilteredGradient(gradients, step);
        var direction = step.GraftingOnly ? Graft(filtered, step) : Precondition(filtered, step);
        if (step.DirectionDecay is { } decay)
        {
            direction.add_(weights!, decay);
        }
        if (momentum is not null)
        {
            momentum.mul_(constants.Momentum).add_(direction, constants.OneMinusDampening);
            direction = options.Nesterov
                ? direction.mul_(constants.OneMinusDampening).add_(momentum, constants.Momentum)
                : momentum.clone();
        }
        return direction.mul_(step.MinusLearningRate);
    }

    /// <summary>The one host read of the gradients' health, at a root computation: names the first bad block's parameter.</summary>
    private void ThrowIfAGradientWasNotFinite(long step)
    {
        long since = checkedThrough + 1;
        checkedThrough = step;
        if (finiteGradients.all().item<bool>()) return;
        int bad = Array.IndexOf(finiteGradients.cpu().data<bool>().ToArray(), false);
        string parameter = names[bad].Parameter;
        throw new DtrainException(since == step
            ? $"the gradient of {parameter} contains NaN or Inf at step {step}"
            : $"the gradient of {parameter} contains NaN or Inf at a step from {since} to {step}");
    }

    /// <summary>L_k ← β₂L_k + w·contract(G, G) over every dim but k (w = 1 when β₂ = 1), for all blocks in one bmm per dim.</summary>
    private void UpdateFactors(Tensor gradients)
    {
        var g = gradients.to(factorType);
        for (int k = 0; k < factors.Length; k++)
        {
            factors[k]?.mul_(constants.Beta2).add_(Contract(g, k), constants.FactorWeight);
        }
    }

    /// <summary>G contracted with itself over every dim but k: [count, d_k, d_k].</summary>
    private Tensor Contract(Tensor g, int k)
    {
        long count = g.shape[0], d = shape[k];
        if (k == shape.Length - 1)
        {
            var rows = g.reshape(count, -1, d);   // a view: the last dim stays innermost
            return Bmm(rows.transpose(1, 2), rows);
        }
        var columns = (k == 0 ? g : g.movedim([k + 1L], [1L])).reshape(count, d, -1);
        return Bmm(columns, columns.transpose(1, 2));
    }

    /// <summary>
    /// The batched product a[i]·b[i]. On the CPU, bmm gives each product of the batch one thread, so large products
    /// (from 256³ multiply-adds) run one by one instead, each on every thread: 3 products of 512 x 512 took 7 ms so
    /// against 13 ms as one bmm on 2 cores. The choice depends on the shapes only, never on how many blocks a rank
    /// stacks, so a block's product is the same on every world size.
    /// </summary>
    private static Tensor Bmm(Tensor a, Tensor b) =>
        a.device_type == DeviceType.CPU && a.shape[1] * a.shape[2] * b.shape[2] >= 1L << 24
            ? stack(Enumerable.Range(0, (int)a.shape[0]).Select(i => a[i].mm(b[i])).ToArray())
            : a.bmm(b);

    /// <summary>X multiplied along block dim k by the symmetric [count, d_k, d_k] matrices <paramref name="root"/>.</summary>
    private Tensor Along(Tensor x, Tensor root, int k)
    {
        long count = x.shape[0], d = shape[k];
        if (k == 0) return Bmm(root, x.reshape(count, d, -1)).view(x.shape);
        if (k == shape.Length - 1) return Bmm(x.reshape(count, -1, d), root).view(x.shape);
        var moved = x.movedim([k + 1L], [-1L]);
        return Bmm(moved.reshape(count, -1, d), root).view(moved.shape).movedim([-1L], [k + 1L]);
    }

    private void UpdateGraftingMoment(Tensor gradients) =>
        graftingMoment?.mul_(constants.GraftingBeta).addcmul_(gradients, gradients, constants.GraftingWeight);

    /// <summary>Inverse roots of the bias-corrected factors, block by block; a failure keeps the block's previous root and is counted.</summary>
    private void ComputeInverseRoots(StepScalars step)
    {
        using var correction = step.FactorCorrection.ToScalar();
        for (int b = 0; b < Count; b++)
        {
            MatrixRootException? failure = null;
            for (int k = 0; k < factors.Length; k++)
            {
                if (factors[k] is not { } stacked) continue;
                using var scope = NewDisposeScope();
                var factor = stacked[b] / correction;
                if (!isfinite(factor).all().item<bool>())
                {
                    throw new MatrixRootException($"{names[b]}: factor {k} contains NaN or Inf at step {step.Number}");
                }
                double root = 1 / exponents[k];
                try
                {
                    var inverse = options.RootMethod == RootMethod.Eigendecomposition
                        ? MatrixRoots.InverseRootByEigendecomposition(factor, root, options.Epsilon)
                        : MatrixRoots.InverseRootByCoupledNewton(factor, (int)Math.Round(root));
                    inverseRoots[k]![b].copy_(inverse);
                }
                catch (MatrixRootException e)
                {
                    failure = e;   // the previous inverse root stays
                }
            }
            // The reference tolerates up to 3 failed amortized computations in a row.
            failures[b] = failure is null ? 0 : failures[b] + 1;
            if (failures[b] > 3)
            {
                throw new MatrixRootException($"{names[b]}: the inverse roots failed {failures[b]} times in a row at step {step.Number}", failure);
            }
        }
    }

    /// <summary>The first-moment filter: G̃ = lerp(M, G, 1-β₃), M ← lerp(M, G, 1-β₁), G̃ bias-corrected.</summary>
    private Tensor FilteredGradient(Tensor gradients, StepScalars step)
    {
        if (firstMoment is null) return gradients;
        var filtered = firstMoment.mul(constants.Beta3).add_(gradients, constants.OneMinusBeta3);
        firstMoment.lerp_(gradients, constants.FirstMomentWeight);
        return options.UseBiasCorrection ? filtered.div_(step.FirstMomentCorrection) : filtered;
    }

    /// <summary>The grafted direction; without a second moment (none, SGD) it is <paramref name="direction"/> itself.</summary>
    private Tensor Graft(Tensor direction, StepScalars step) => options.Grafting switch
    {
        GraftingType.None or GraftingType.Sgd => direction,
        GraftingType.Adagrad or GraftingType.Rmsprop => direction / graftingMoment!.sqrt().add_(constants.GraftingEpsilon, constants.One),
        GraftingType.Adam => direction / graftingMoment!.div(step.GraftingCorrection).sqrt_().add_(constants.GraftingEpsilon, constants.One),
        _ => throw new ArgumentOutOfRangeException(nameof(options.Grafting)),
    };

    /// <summary>G̃ multiplied by each inverse root along its dim, then each block scaled to its grafted direction's norm.</summary>
    private Tensor Precondition(Tensor filtered, StepScalars step)
    {
        var blockDims = Enumerable.Range(1, shape.Length).Select(d => (long)d).ToArray();
        var graftedNorms = options.Grafting == GraftingType.None ? null : EuclideanNorms(Graft(filtered, step), blockDims);
        var direction = filtered.to(factorType);
        for (int k = 0; k < inverseRoots.Length; k++)
        {
            if (inverseRoots[k] is { } root) direction = Along(direction, root, k);
        }
        direction = direction.to(filtered.dtype);
        if (graftedNorms is null) return direction;
        var norms = EuclideanNorms(direction, blockDims);
        return direction.mul_(graftedNorms.div_(norms.add_(constants.NormFloor, constants.One)));
    }

    /// <summary>
    /// Each block's 2-norm. Not linalg.vector_norm: TorchSharp 0.107 turns its double order into a Scalar that nothing
    /// keeps alive during the native call, and a garbage collection then frees it mid-call (seen: "Expected false to be
    /// true" from Scalar::toDouble, in ShampooGarbageCollectionTests).
    /// </summary>
    private static Tensor EuclideanNorms(Tensor blocks, long[] blockDims) => blocks.mul(blocks).sum(blockDims, keepdim: true).sqrt_();

    /// <summary>One block's state tensors, always in the same order (absent ones, say no momentum, skipped): what a checkpoint holds.</summary>
    public IEnumerable<Tensor> BlockState(int row) =>
        factors.Concat(inverseRoots).Concat([graftingMoment, firstMoment, momentum]).OfType<Tensor>().Select(t => t[row]);

    /// <summary>The failed root computations in a row of one block.</summary>
    public int FailedRootComputations(int row) => failures[row];

    public void SetFailedRootComputations(int row, int count) => failures[row] = count;

    private IEnumerable<Tensor> AllTensors() =>
        factors.Concat(inverseRoots).Concat([graftingMoment, firstMoment, momentum, finiteGradients]).OfType<Tensor>();

    public void Dispose()
    {
        foreach (var tensor in AllTensors()) tensor.Dispose();
    }
}
