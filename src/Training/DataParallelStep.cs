using static TorchSharp.torch;

namespace Dtrain.Training;

/// <summary>
/// One data-parallel training step of a model trained with cross-entropy: the gradients of this rank's batch,
/// averaged across the ranks and applied by the job's optimizer (<see cref="ReplicatedOptimizer"/>). What
/// <see cref="DataParallelTrainer"/> runs every step, and what `dtrain bench overhead` times.
/// </summary>
public static class DataParallelStep
{
    /// <summary>
    /// Trains on <paramref name="inputs"/>, whose logits [..., classes] are scored against <paramref name="targets"/>
    /// [...]: a classifier's samples and a language model's positions alike. Returns the batch's mean loss.
    /// </summary>
    public static async Task<double> RunAsync(
        nn.Module<Tensor, Tensor> model, ReplicatedOptimizer optimizer, Tensor inputs, Tensor targets, CancellationToken ct)
    {
        double loss = ComputeGradients(model, optimizer, inputs, targets);
        await optimizer.StepAsync(ct);
        return loss;
    }

    private static double ComputeGradients(nn.Module<Tensor, Tensor> model, ReplicatedOptimizer optimizer, Tensor inputs, Tensor targets)
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        var logits = model.forward(inputs);
        var loss = nn.functional.cross_entropy(logits.flatten(0, -2), targets.flatten());
        loss.backward();
        return loss.item<float>();
    }
}
