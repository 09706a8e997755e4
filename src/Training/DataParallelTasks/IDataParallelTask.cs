using static TorchSharp.torch;

namespace Dtrain.Training.DataParallelTasks;

/// <summary>
/// What a built-in data-parallel job trains (<see cref="DataParallelTrainer"/>): its model, each rank's batch at a
/// step, and how the model scores on held-out data. Batches are pure functions of the seed and the step, so a
/// resumed job sees what an uninterrupted one would.
/// </summary>
public interface IDataParallelTask
{
    nn.Module<Tensor, Tensor> CreateModel();

    /// <summary>This rank's inputs and the targets of its logits at <paramref name="step"/> (steps count from 0).</summary>
    (Tensor Inputs, Tensor Targets) Batch(int step, Device device);

    /// <summary>
    /// This rank's share of the held-out score: predictions that were right, and predictions made. Every rank scores
    /// its own share, so that the shares add up to the whole held-out set on any number of ranks.
    /// </summary>
    (long Correct, long Count) ScoreHeldOut(nn.Module<Tensor, Tensor> model, Device device);
}
