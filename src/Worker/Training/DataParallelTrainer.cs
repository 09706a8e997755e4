using System.Diagnostics;
using Dtrain.Collectives;
using Dtrain.Contracts.Jobs;
using Dtrain.Models;
using Dtrain.Models.Data;
using Dtrain.Optimizers.Shampoo.Distributor;
using Dtrain.Telemetry;
using TorchSharp;
using static TorchSharp.torch;

namespace Dtrain.Worker.Training;

/// <summary>
/// Data-parallel training of the MLP on the synthetic classification task: every rank starts from the same
/// seeded parameters, computes gradients on its own shard, averages them with an all-reduce, and takes the same
/// optimizer step, so parameters stay identical on every rank.
/// </summary>
/// <param name="checkpoint">Writes and loads the job's checkpoints; null for a job that takes none.</param>
/// <param name="placeBlocks">Places Shampoo's blocks (the coordinator's shard map); null places them on this rank.</param>
public sealed class DataParallelTrainer(Communicator comm, JobSpec job, Device device, DataParallelCheckpoint? checkpoint = null, BlockPlacement? placeBlocks = null)
{
    public const int HiddenWidth = 128, HiddenLayers = 2;

    public async Task<TrainingResult> TrainAsync(IProgress<StepReport>? progress, CancellationToken ct)
    {
        var data = new SyntheticClassification(job.Seed);
        var sampler = new DistributedSampler(data.TrainSize, comm.Rank, comm.Size, job.BatchSize, job.Seed);
        using var model = CreateModel(data);
        model.to(device);
        using var optimizer = await ReplicatedOptimizer.CreateAsync(model, comm, job, ct, placeBlocks);
        string rank = comm.Rank.ToString();
        int first = DataParallelCheckpoint.StartStep(checkpoint, job, model, optimizer);

        double loss = double.NaN;
        for (int step = first; step < job.Steps; step++)
        {
            long started = Stopwatch.GetTimestamp();
            var (inputs, labels) = data.Batch(sampler.BatchAt(step), device);
            using (inputs)
            using (labels)
            {
                loss = await DataParallelStep.RunAsync(model, optimizer, inputs, labels, ct);
            }
            if (checkpoint?.IsDue(step + 1) == true) await checkpoint.WriteAsync(comm.Rank, comm.Size, step + 1, model, optimizer, ct);
            TrainingSteps.Finished(progress, rank, step, started, job.BatchSize, loss);
        }

        var (finalLoss, accuracy) = await EvaluateAsync(model, data, loss, ct);
        return TrainingResult.Of(finalLoss, accuracy, TrainingSteps.Flatten(model));
    }

    private Mlp CreateModel(SyntheticClassification data) => TrainingSteps.CreateSeeded(job.Seed,
        () => new Mlp(data.Features, HiddenWidth, HiddenLayers, data.Classes));

    /// <summary>Held-out accuracy over the whole test set and the mean last-step loss, in one all-reduce.</summary>
    private async Task<(double Loss, double Accuracy)> EvaluateAsync(
        Mlp model, SyntheticClassification data, double lastLoss, CancellationToken ct)
    {
        var indices = DistributedSampler.EvaluationShard(data.TrainSize, data.TestSize, comm.Rank, comm.Size);
        float correct;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var (inputs, labels) = data.Batch(indices, device);
            correct = model.forward(inputs).argmax(1).eq(labels).sum().item<long>();
        }
        // Counts below 2^24 are exact in float32.
        var totals = new[] { correct, indices.Length, (float)lastLoss };
        await comm.AllReduceAsync<float>(totals, ReduceOp.Sum, ct);
        return (totals[2] / comm.Size, totals[0] / totals[1]);
    }
}
