using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dtrain.Optimizers;

/// <summary>
/// TorchSharp's Adam with a step that holds its Scalars (see <see cref="HeldScalars"/>): TorchSharp 0.107's
/// Adam.step converts its coefficients to Scalars implicitly, which a garbage collection can free while libtorch
/// reads them. The step takes TorchSharp's tensor operations in TorchSharp's order with the same values, so the
/// parameters and the state are bitwise those of TorchSharp's Adam; the state, its save and load, and the options
/// are TorchSharp's own, so checkpoints are unchanged. AMSGrad and maximize are not supported. With
/// <paramref name="decoupled_weight_decay"/> it is AdamW (the weight decays by lr × weight_decay before the
/// update, not through the gradient), bitwise TorchSharp's AdamW.
/// </summary>
public sealed class HeldAdam(
    IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weight_decay = 0,
    bool decoupled_weight_decay = false)
    : Adam(parameters, lr, beta1, beta2, eps, weight_decay)
{
    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
    {
        if (param_group.Options is Options { amsgrad: true } or Options { maximize: true })
        {
            throw new NotSupportedException("HeldAdam supports neither amsgrad nor maximize");
        }
        base.add_param_group(param_group);
    }

    public override Tensor step(Func<Tensor>? closure = null)
    {
        using var scalars = new HeldScalars();
        return _step<ParamGroup>(group => Step(group, scalars), closure);
    }

    /// <summary>One group's update, run by the base class under no_grad and a dispose scope for the temporaries.</summary>
    private void Step(ParamGroup group, HeldScalars scalars)
    {
        var options = group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, weightDecay = options.weight_decay!.Value;
        double lr = options.LearningRate!.Value;
        Scalar beta1Scalar = scalars.Of(beta1), beta2Scalar = scalars.Of(beta2);
        Scalar gradientWeight = scalars.Of(1 - beta1), squareWeight = scalars.Of(1 - beta2);
        Scalar eps = scalars.Of(options.eps!.Value), decay = scalars.Of(weightDecay);
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null) continue;
            state.step += 1;
            double biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            double biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            if (weightDecay != 0 && decoupled_weight_decay) param.mul_(scalars.Of(1 - lr * weightDecay));
            else if (weightDecay != 0) grad = grad.add(param, decay);
            state.exp_avg.mul_(beta1Scalar).add_(grad, gradientWeight);
            state.exp_avg_sq.mul_(beta2Scalar).addcmul_(grad, grad.conj(), squareWeight);
            var denominator = state.exp_avg_sq.sqrt().div(scalars.Of(Math.Sqrt(biasCorrection2))).add_(eps, scalars.One);
            param.addcdiv_(state.exp_avg, denominator, scalars.Of(-(lr / biasCorrection1)));
        }
    }
}
