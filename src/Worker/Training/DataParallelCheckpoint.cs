using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dtrain.Worker.Training;

/// <summary>
/// Checkpoint shards of data-parallel training. Every rank holds the whole model, so the state is split for
/// writing: rank r of W writes parameter i, with its Adam state, when i mod W = r. Loading reads every shard of a
/// checkpoint, so a checkpoint written by one world size loads onto any other. The data position needs no saving:
/// the sampler's batches and every random draw are pure functions of the seed and the step.
/// </summary>
/// <param name="report">Tells the coordinator a shard is written: rank, step, file, checksum.</param>
public sealed class DataParallelCheckpoint(JobSpec job, Func<int, long, string, string, CancellationToken, Task> report)
{
    public bool IsDue(int stepsTaken) => job.CheckpointEvery > 0 && stepsTaken % job.CheckpointEvery == 0;

    public async Task WriteAsync(int rank, int worldSize, long step, nn.Module model, OptimizerHelper adam, CancellationToken ct)
    {
        var parameters = model.parameters().ToArray();
        var states = adam.state_dict().State;
        string checksum = CheckpointStore.WriteShard(job.CheckpointDir, step, rank, writer =>
        {
            writer.Write(step);
            writer.Write(parameters.Length);
            var owned = Enumerable.Range(0, parameters.Length).Where(i => i % worldSize == rank).ToArray();
            writer.Write(owned.Length);
            foreach (int i in owned)
            {
                writer.Write(i);
                parameters[i].detach().cpu().Save(writer);
                states[i].SaveStateDict(writer);
            }
        });
        await report(rank, step, CheckpointStore.ShardName(rank), checksum, ct);
    }

    /// <summary>Loads the checkpoint after <see cref="JobSpec.ResumeStep"/> steps into the model and Adam, from all its shards.</summary>
    public void Load(nn.Module model, OptimizerHelper adam)
    {
        var manifest = CheckpointStore.ReadManifest(job.CheckpointDir, job.ResumeStep);
        var parameters = model.parameters().ToArray();
        var states = adam.state_dict().State;
        var loaded = new bool[parameters.Length];
        using var noGrad = no_grad();
        for (int rank = 0; rank < manifest.WorldSize; rank++)
        {
            using var reader = CheckpointStore.ReadShard(job.CheckpointDir, manifest, rank);
            long step = reader.ReadInt64();
            int count = reader.ReadInt32(), owned = reader.ReadInt32();
            if (step != manifest.Step || count != parameters.Length)
            {
                throw new DtrainException($"checkpoint shard {rank} of step {manifest.Step} holds {count} parameters of step {step}; this model has {parameters.Length}");
            }
            for (int k = 0; k < owned; k++)
            {
                int i = reader.ReadInt32();
                using var values = Tensor.Load(reader);
                parameters[i].copy_(values.reshape(parameters[i].shape));
                states[i].LoadStateDict(reader);
                loaded[i] = true;
            }
        }
        int missing = Array.IndexOf(loaded, false);
        if (missing >= 0) throw new DtrainException($"the checkpoint of step {manifest.Step} has no shard holding parameter {missing}");
    }
}
