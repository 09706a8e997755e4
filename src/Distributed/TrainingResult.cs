using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Dtrain.Distributed;

/// <summary>What one rank ends a job with.</summary>
/// <param name="FinalLoss">The last step's training loss, averaged over ranks.</param>
/// <param name="TestAccuracy">Accuracy on the whole held-out set (every rank evaluates its share).</param>
/// <param name="ParameterDigest">SHA-256 of the final parameters; equal on every rank when training was correct.</param>
/// <param name="Parameters">The final parameters, flattened in parameter order.</param>
public sealed record TrainingResult(double FinalLoss, double TestAccuracy, string ParameterDigest, float[] Parameters)
{
    public static TrainingResult Of(double finalLoss, double testAccuracy, float[] parameters) => new(
        finalLoss, testAccuracy,
        Convert.ToHexString(SHA256.HashData(MemoryMarshal.AsBytes(parameters.AsSpan()))).ToLowerInvariant(),
        parameters);

    /// <summary>The result of a run that trained <paramref name="model"/>: its float32 parameters, flattened.</summary>
    public static TrainingResult Of(double finalLoss, double testAccuracy, TorchSharp.torch.nn.Module model) =>
        Of(finalLoss, testAccuracy, TrainingSteps.Flatten(model));
}

/// <summary>One step's numbers, as the worker reports them to the coordinator.</summary>
public readonly record struct StepReport(int Step, double Loss, long Samples);
