using Dtrain.Contracts.Placement;
using Dtrain.Collectives;
using Dtrain.Training.DataParallelTasks;
using Dtrain.Contracts.Jobs;
using Dtrain.Models.Data;
using Dtrain.Optimizers;
using Dtrain.Telemetry;
using Dtrain.TensorParallel.Grid;
using Dtrain.TensorParallel.Layers;
using static TorchSharp.torch;

namespace Dtrain.Training;

/// <summary>
/// Tensor-parallel training of <see cref="CannonMlp"/> on the synthetic classification task (`--model
/// cannon-mlp`). The workers form a square grid; each holds one block of every weight and every activation, and
/// all of them work on the same whole batch. The loss is the mean squared error against one-hot labels, which
/// splits into a sum per output block, so the distributed matmuls are the only exchanges of a step. Adam is
/// elementwise: stepping each block alone is stepping the whole weight. Any square number of workers follows the
/// loss curve of one process, up to float rounding.
/// </summary>
/// <param name="placement">Places the grid's cells (the coordinator's shard map); null: cell c on rank c.</param>
public sealed class TensorParallelTrainer(Communicator comm, JobSpec job, Device device, TensorParallelCheckpoint? checkpoint = null, IShardPlacement? placement = null)
{
    public async Task<TrainingResult> TrainAsync(IProgress<StepReport>? progress, CancellationToken ct)
    {
        var data = new SyntheticClassification(job.Seed);
        int q = ProcessGrid.SquareSide(comm.Size);
        var cellOwners = placement is null ? null : await placement.PlaceAsync(new ShardedWork(ShardKind.GridCells, CellBytes(q, data), comm.Size), ct);
        await using var grid = await ProcessGrid.CreateSquareAsync(comm, cellOwners, ct);
        // The whole batch on every rank: the sampler of a world of one.
        var sampler = new DistributedSampler(data.TrainSize, rank: 0, worldSize: 1, job.BatchSize, job.Seed);
        using var model = CreateModel(grid, data);
        using var adam = new HeldAdam(model.parameters(), job.LearningRate);
        int first = TensorParallelCheckpoint.StartStep(checkpoint, job, grid, model, adam);
        // Every rank works on the same samples: counting them once keeps the job's samples/s true.
        int samplesPerStep = comm.Rank == 0 ? job.BatchSize : 0;
        var loop = new TrainingLoop(job, comm.Rank, samplesPerStep, checkpoint?.WriterOf(grid, model, adam), progress);
        double loss = await loop.RunAsync(first, async (step, token) =>
        {
            double batchLoss = await ComputeGradientsAsync(grid, model, data, sampler.BatchAt(step).ToArray(), token);
            adam.step();
            return batchLoss;
        }, ct);
        double accuracy = await EvaluateAsync(grid, model, data, ct);
        return TrainingResult.Of(loss, accuracy, await GatherParametersAsync(grid, model, ct));
    }

    /// <summary>
    /// The whole weights are drawn from the job's seed, as nn.Linear draws them (uniform in ±1/√in), so every
    /// grid starts from the same model; each rank keeps its block. Only this initialisation holds a whole weight.
    /// </summary>
    private CannonMlp CreateModel(ProcessGrid grid, SyntheticClassification data)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)job.Seed);
        var first = InitialWeight(data.Features, SyntheticClassificationTask.HiddenWidth, generator);
        var second = InitialWeight(SyntheticClassificationTask.HiddenWidth, data.Classes, generator);
        var (firstBlock, secondBlock) = (BlockOf(grid, first), BlockOf(grid, second));
        firstBlock.Block.DetachFromDisposeScope();   // the model's parameters from now on
        secondBlock.Block.DetachFromDisposeScope();
        return new CannonMlp(grid, firstBlock, secondBlock);
    }

    /// <summary>The bytes of the weight blocks each cell of a q x q grid holds, row-major.</summary>
    private static long[] CellBytes(int q, SyntheticClassification data)
    {
        BlockLayout[] layouts = [new(data.Features, SyntheticClassificationTask.HiddenWidth, q, q), new(SyntheticClassificationTask.HiddenWidth, data.Classes, q, q)];
        return Enumerable.Range(0, q * q)
            .Select(cell => layouts.Sum(layout => layout.RowCount(cell / q) * layout.ColCount(cell % q) * sizeof(float)))
            .ToArray();
    }

    private static Tensor InitialWeight(long inputs, long outputs, Generator generator) =>
        empty([inputs, outputs]).uniform_(-1 / Math.Sqrt(inputs), 1 / Math.Sqrt(inputs), generator);

    /// <summary>This rank's block of a whole matrix, a copy of its own on the job's device.</summary>
    private BlockMatrix BlockOf(ProcessGrid grid, Tensor whole)
    {
        var layout = grid.Layout(whole.shape[0], whole.shape[1]);
        return new BlockMatrix(layout.Slice(whole, grid.Row, grid.Col).to(device).contiguous().clone(), layout.Rows, layout.Cols);
    }

    /// <summary>Forward and backward on this rank's blocks; returns the whole batch's loss.</summary>
    private async Task<double> ComputeGradientsAsync(ProcessGrid grid, CannonMlp model, SyntheticClassification data, long[] batch, CancellationToken ct)
    {
        float local;
        using (var scope = NewDisposeScope())
        {
            var (inputs, labels) = data.Batch(batch, device);
            var targets = nn.functional.one_hot(labels, data.Classes).to(float32);
            model.zero_grad();
            var outputs = model.forward(BlockOf(grid, inputs));
            var error = outputs.Block - BlockOf(grid, targets).Block;
            // This block's share of the mean over the whole batch x classes; the shares sum to the loss.
            var share = (error * error).sum() / tensor((float)targets.numel(), device: device);
            share.backward();
            grid.BackwardFailure.ThrowIfFailed();
            local = share.item<float>();
        }
        var total = new[] { local };
        await comm.AllReduceAsync<float>(total, ReduceOp.Sum, ct);
        return total[0];
    }

    /// <summary>Held-out accuracy: the outputs' blocks meet on rank 0, which takes each row's argmax.</summary>
    private async Task<double> EvaluateAsync(ProcessGrid grid, CannonMlp model, SyntheticClassification data, CancellationToken ct)
    {
        var indices = Enumerable.Range(data.TrainSize, data.TestSize).Select(i => (long)i).ToArray();
        var accuracy = new double[1];
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var (inputs, labels) = data.Batch(indices, device);
            var outputs = await grid.GatherAsync(model.forward(BlockOf(grid, inputs)), ct: ct);
            if (outputs is not null)
            {
                accuracy[0] = outputs.argmax(1).eq(labels.cpu()).sum().item<long>() / (double)indices.Length;
            }
        }
        await comm.BroadcastAsync<double>(accuracy, ct: ct);
        return accuracy[0];
    }

    /// <summary>Both whole weights, row-major, on every rank: the same on all of them, as the job's check expects.</summary>
    private async Task<float[]> GatherParametersAsync(ProcessGrid grid, CannonMlp model, CancellationToken ct)
    {
        var layers = model.modules().OfType<CannonLinear>().ToArray();
        var wholes = new List<Tensor?>();
        foreach (var layer in layers)
        {
            wholes.Add(await grid.GatherAsync(new BlockMatrix(layer.Weight.detach(), layer.InFeatures, layer.OutFeatures), ct: ct));
        }
        long total = layers.Sum(layer => layer.InFeatures * layer.OutFeatures);
        var parameters = new float[total];
        if (comm.Rank == 0)
        {
            int offset = 0;
            foreach (var whole in wholes)
            {
                var values = whole!.data<float>().ToArray();
                values.CopyTo(parameters, offset);
                offset += values.Length;
                whole.Dispose();
            }
        }
        await comm.BroadcastAsync<float>(parameters, ct: ct);
        return parameters;
    }
}
