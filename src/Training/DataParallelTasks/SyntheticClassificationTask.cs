using Dtrain.Contracts.Jobs;
using Dtrain.Models;
using Dtrain.Models.Data;
using static TorchSharp.torch;

namespace Dtrain.Training.DataParallelTasks;

/// <summary>The default job: an MLP on the generated classification task, each rank on its shard of every batch.</summary>
public sealed class SyntheticClassificationTask : IDataParallelTask
{
    public const int HiddenWidth = 128, HiddenLayers = 2;
    private readonly SyntheticClassification data;
    private readonly DistributedSampler sampler;
    private readonly int rank, worldSize;

    public SyntheticClassificationTask(JobSpec job, int rank, int worldSize)
    {
        data = new SyntheticClassification(job.Seed);
        sampler = new DistributedSampler(data.TrainSize, rank, worldSize, job.BatchSize, job.Seed);
        (this.rank, this.worldSize) = (rank, worldSize);
    }

    public nn.Module<Tensor, Tensor> CreateModel() => new Mlp(data.Features, HiddenWidth, HiddenLayers, data.Classes);

    public (Tensor Inputs, Tensor Targets) Batch(int step, Device device) => data.Batch(sampler.BatchAt(step), device);

    public (long Correct, long Count) ScoreHeldOut(nn.Module<Tensor, Tensor> model, Device device)
    {
        var indices = DistributedSampler.EvaluationShard(data.TrainSize, data.TestSize, rank, worldSize);
        using var scope = NewDisposeScope();
        var (inputs, labels) = data.Batch(indices, device);
        return (model.call(inputs).argmax(1).eq(labels).sum().item<long>(), indices.Length);
    }
}
