using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Contracts.Placement;
using Dtrain.Training.DataParallelTasks;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Training;

/// <summary>
/// Data-parallel training of the job's model: the MLP on the generated classification task, or the transformer
/// language model on a text corpus (<see cref="IDataParallelTask"/>). Every rank starts from the same seeded
/// parameters, computes gradients on its own shard, averages them with an all-reduce, and takes the same optimizer
/// step, so parameters stay identical on every rank.
/// </summary>
/// <param name="checkpoint">Writes and loads the job's checkpoints; null for a job that takes none.</param>
/// <param name="placeBlocks">Places Shampoo's blocks (the coordinator's shard map); null places them on this rank.</param>
public sealed class DataParallelTrainer(Communicator comm, JobSpec job, Device device, DataParallelCheckpoint? checkpoint = null, IShardPlacement? placeBlocks = null)
{
    /// <summary>The task of the job's model.</summary>
    public static IDataParallelTask TaskOf(JobSpec job, int rank, int worldSize) => job.Model == ModelKind.TransformerLm
        ? new LanguageModelTask(job, rank, worldSize)
        : new SyntheticClassificationTask(job, rank, worldSize);

    public async Task<TrainingResult> TrainAsync(IProgress<StepReport>? progress, CancellationToken ct)
    {
        var task = TaskOf(job, comm.Rank, comm.Size);
        using var model = TrainingSteps.CreateSeeded(job.Seed, task.CreateModel);
        model.to(device);
        using var optimizer = await ReplicatedOptimizer.CreateAsync(model, comm, job, ct, placeBlocks);
        int first = DataParallelCheckpoint.StartStep(checkpoint, job, model, optimizer);
        var loop = new TrainingLoop(job, comm.Rank, job.BatchSize, checkpoint?.WriterOf(comm.Rank, comm.Size, model, optimizer), progress);
        double loss = await loop.RunAsync(first, async (step, token) =>
        {
            var (inputs, labels) = task.Batch(step, device);
            using (inputs)
            using (labels)
            {
                return await DataParallelStep.RunAsync(model, optimizer, inputs, labels, token);
            }
        }, ct);

        var (finalLoss, accuracy) = await EvaluateAsync(task, model, loss, ct);
        return TrainingResult.Of(finalLoss, accuracy, TrainingSteps.Flatten(model));
    }

    /// <summary>Held-out accuracy over the whole held-out set and the mean last-step loss, in one all-reduce.</summary>
    private async Task<(double Loss, double Accuracy)> EvaluateAsync(IDataParallelTask task, nn.Module<Tensor, Tensor> model, double lastLoss, CancellationToken ct)
    {
        (long correct, long count) = (0, 0);
        using (no_grad()) (correct, count) = task.ScoreHeldOut(model, device);
        // Counts below 2^24 are exact in float32.
        var totals = new[] { correct, count, (float)lastLoss };
        await comm.AllReduceAsync<float>(totals, ReduceOp.Sum, ct);
        return (totals[2] / comm.Size, totals[0] / totals[1]);
    }
}
