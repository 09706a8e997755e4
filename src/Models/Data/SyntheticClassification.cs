using Dtrain.Contracts.Randomness;
using static TorchSharp.torch;

namespace Dtrain.Models.Data;

/// <summary>
/// A generated classification task: each class is a mixture of Gaussian clusters around random centres, so the
/// classes are not linearly separable. Sample i is a pure function of (seed, i); indices below
/// <see cref="TrainSize"/> are the training set, the next <see cref="TestSize"/> the held-out set.
/// </summary>
public sealed class SyntheticClassification
{
    private const long CentreStream = 1, SampleStream = 2;

    /// <summary>Training samples of the default task (the built-in mlp and cannon-mlp jobs').</summary>
    public const int DefaultTrainSize = 16384;
    private readonly long seed;
    private readonly float[,,] centres;

    public SyntheticClassification(
        long seed, int features = 32, int classes = 4, int clustersPerClass = 2,
        double centreSpread = 1.5, double noise = 1.6, int trainSize = DefaultTrainSize, int testSize = 4096)
    {
        this.seed = seed;
        Features = features;
        Classes = classes;
        Noise = noise;
        TrainSize = trainSize;
        TestSize = testSize;
        centres = new float[classes, clustersPerClass, features];
        var random = new CounterRandom(CounterRandom.Key(seed, CentreStream, 0));
        for (int c = 0; c < classes; c++)
            for (int m = 0; m < clustersPerClass; m++)
                for (int d = 0; d < features; d++)
                    centres[c, m, d] = (float)(centreSpread * random.NextGaussian());
    }

    public int Features { get; }

    public int Classes { get; }

    public double Noise { get; }

    public int TrainSize { get; }

    public int TestSize { get; }

    /// <summary>The samples at <paramref name="indices"/> as a [n, features] float tensor and [n] int64 labels.</summary>
    public (Tensor Inputs, Tensor Labels) Batch(ReadOnlySpan<long> indices, Device device)
    {
        var inputs = new float[indices.Length * Features];
        var labels = new long[indices.Length];
        for (int row = 0; row < indices.Length; row++)
        {
            var random = new CounterRandom(CounterRandom.Key(seed, SampleStream, indices[row]));
            int label = random.NextInt(Classes);
            int cluster = random.NextInt(centres.GetLength(1));
            labels[row] = label;
            for (int d = 0; d < Features; d++)
            {
                inputs[row * Features + d] = centres[label, cluster, d] + (float)(Noise * random.NextGaussian());
            }
        }
        return (tensor(inputs, [indices.Length, Features], device: device), tensor(labels, device: device));
    }
}
