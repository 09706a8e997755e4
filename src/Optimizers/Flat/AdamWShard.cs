using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Optimizers.Flat;

/// <summary>
/// The Adam moments of one shard of every flat group (the whole buffers when there is one shard), and the AdamW
/// update of that shard. The update takes TorchSharp AdamW's tensor operations in its order with the same Scalar
/// values (as <see cref="HeldAdam"/> with decoupled weight decay does), each once per group instead of once per
/// parameter: the operations are element-wise, so every element gets the bits it gets from torch.optim.AdamW.
/// The denominator is computed in a scratch buffer kept between steps (a copy, then sqrt_, div_ and add_ in place:
/// the same values as sqrt, div and add_): a fresh temporary the size of a whole flat buffer is allocated with mmap
/// and page-faulted anew every step, which made the flat step slower than the per-parameter one.
/// </summary>
internal sealed class AdamWShard : IDisposable
{
    private readonly FlatParameters parameters;
    private readonly int index, count;
    private readonly AdamWMoments[] moments;
    private readonly Tensor[] denominators;

    /// <summary>Shard <paramref name="index"/> of <paramref name="count"/> (the buffers' lengths are multiples of it).</summary>
    public AdamWShard(FlatParameters parameters, int index, int count)
    {
        (this.parameters, this.index, this.count) = (parameters, index, count);
        moments = parameters.Groups.Select(g =>
        {
            long length = g.Length / count;
            var device = g.Values.device;
            return new AdamWMoments(zeros(length, g.DataType, device).DetachFromDisposeScope(), zeros(length, g.DataType, device).DetachFromDisposeScope());
        }).ToArray();
        denominators = moments.Select(m => zeros_like(m.ExpAvg).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>Steps taken; the bias corrections depend on it.</summary>
    public long Step { get; private set; }

    /// <summary>The moments' bytes: two elements per element of the shard.</summary>
    public long StateBytes => moments.Sum(m => 2 * m.ExpAvg.numel() * m.ExpAvg.element_size());

    /// <summary>Group <paramref name="group"/>'s moments over this shard.</summary>
    public AdamWMoments Moments(int group) => moments[group];

    /// <summary>This shard of a flat tensor of group <paramref name="group"/>'s layout.</summary>
    public Tensor Of(int group, Tensor flat) => parameters.Groups[group].Shard(flat, index, count);

    /// <summary>One AdamW step of the shard's values from the shard's gradients.</summary>
    public void Update(AdamWOptions options, double lr)
    {
        Step += 1;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var scalars = new HeldScalars();
        double biasCorrection1 = 1 - Math.Pow(options.Beta1, Step), biasCorrection2 = 1 - Math.Pow(options.Beta2, Step);
        Scalar beta1 = scalars.Of(options.Beta1), beta2 = scalars.Of(options.Beta2);
        Scalar gradientWeight = scalars.Of(1 - options.Beta1), squareWeight = scalars.Of(1 - options.Beta2);
        Scalar eps = scalars.Of(options.Epsilon), decay = scalars.Of(1 - lr * options.WeightDecay);
        Scalar denominatorScale = scalars.Of(Math.Sqrt(biasCorrection2)), stepSize = scalars.Of(-(lr / biasCorrection1));
        for (int g = 0; g < moments.Length; g++)
        {
            var (param, grad) = (Of(g, parameters.Groups[g].Values), Of(g, parameters.Groups[g].Gradients));
            var (expAvg, expAvgSq) = moments[g];
            if (options.WeightDecay != 0) param.mul_(decay);
            expAvg.mul_(beta1).add_(grad, gradientWeight);
            expAvgSq.mul_(beta2).addcmul_(grad, grad, squareWeight);
            var denominator = denominators[g].copy_(expAvgSq).sqrt_().div_(denominatorScale).add_(eps, scalars.One);
            param.addcdiv_(expAvg, denominator, stepSize);
        }
    }

    /// <summary>Takes the step count and this shard's part of every parameter's moments from <paramref name="state"/>.</summary>
    public void Load(AdamWState state)
    {
        if (state.Parameters.Count != parameters.Slots.Count)
        {
            throw new ArgumentException($"the state holds {state.Parameters.Count} parameters' moments, the optimizer has {parameters.Slots.Count} parameters");
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var m in moments)
        {
            m.ExpAvg.zero_();
            m.ExpAvgSq.zero_();
        }
        for (int i = 0; i < parameters.Slots.Count; i++)
        {
            var slot = parameters.Slots[i];
            var saved = state.Parameters[i];
            if (!saved.ExpAvg.shape.SequenceEqual(slot.Parameter.shape) || !saved.ExpAvgSq.shape.SequenceEqual(slot.Parameter.shape))
            {
                throw new ArgumentException($"parameter {i} is [{string.Join(", ", slot.Parameter.shape)}], its saved moments are [{string.Join(", ", saved.ExpAvg.shape)}]");
            }
            long shardLength = moments[slot.Group].ExpAvg.numel(), shardStart = shardLength * index;
            long start = Math.Max(slot.Offset, shardStart), end = Math.Min(slot.Offset + slot.Parameter.numel(), shardStart + shardLength);
            if (start >= end) continue;
            moments[slot.Group].ExpAvg.narrow(0, start - shardStart, end - start).copy_(saved.ExpAvg.flatten().narrow(0, start - slot.Offset, end - start));
            moments[slot.Group].ExpAvgSq.narrow(0, start - shardStart, end - start).copy_(saved.ExpAvgSq.flatten().narrow(0, start - slot.Offset, end - start));
        }
        Step = state.Step;
    }

    public void Dispose()
    {
        foreach (var m in moments)
        {
            m.ExpAvg.Dispose();
            m.ExpAvgSq.Dispose();
        }
        foreach (var denominator in denominators) denominator.Dispose();
    }
}
