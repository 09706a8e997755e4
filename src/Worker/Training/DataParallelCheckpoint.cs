using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers.Shampoo;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dtrain.Worker.Training;

/// <summary>
/// Checkpoint shards of data-parallel training (the MLP, GraphSAGE). Every rank holds the whole model, so the state
/// is split for writing: rank r of W writes parameter i, with its Adam state, when i mod W = r; with Distributed
/// Shampoo, each rank appends the state of the blocks it owns (<see cref="ShampooOptimizer.SaveState"/>). Loading
/// reads every shard of a checkpoint, so a checkpoint written by one world size loads onto any other. The data
/// position needs no saving: batches and every random draw are pure functions of the seed and the step.
/// </summary>
/// <param name="report">Tells the coordinator a shard is written.</param>
public sealed class DataParallelCheckpoint(JobSpec job, ShardReport report) : ShardedCheckpoint(job, report)
{
    /// <summary>The step training starts at: 0, or the one the job resumes at, whose checkpoint is then loaded.</summary>
    public static int StartStep(DataParallelCheckpoint? checkpoint, JobSpec job, nn.Module model, ReplicatedOptimizer optimizer) =>
        StartStep(checkpoint, job, loaded => loaded.Load(model, optimizer));

    public async Task WriteAsync(int rank, int worldSize, long step, nn.Module model, ReplicatedOptimizer optimizer, CancellationToken ct)
    {
        var parameters = model.parameters().ToArray();
        var adamStates = optimizer.Adam?.state_dict().State;
        await WriteShardAsync(rank, step, writer =>
        {
            writer.Write(parameters.Length);
            var owned = Enumerable.Range(0, parameters.Length).Where(i => i % worldSize == rank).ToArray();
            writer.Write(owned.Length);
            foreach (int i in owned)
            {
                writer.Write(i);
                parameters[i].detach().cpu().Save(writer);
                adamStates?[i].SaveStateDict(writer);
            }
            writer.Flush();
            optimizer.Shampoo?.SaveState(writer.BaseStream);
        }, ct);
    }

    /// <summary>Loads the checkpoint after <see cref="JobSpec.ResumeStep"/> steps into the model and optimizer, from all its shards.</summary>
    public void Load(nn.Module model, ReplicatedOptimizer optimizer)
    {
        var manifest = CheckpointStore.ReadManifest(Job.CheckpointDir, Job.ResumeStep);
        var parameters = model.parameters().ToArray();
        var adamStates = optimizer.Adam?.state_dict().State;
        var loaded = new bool[parameters.Length];
        var shards = Enumerable.Range(0, manifest.WorldSize).Select(rank => CheckpointStore.ReadShard(Job.CheckpointDir, manifest, rank)).ToArray();
        try
        {
            using (no_grad())
            {
                for (int rank = 0; rank < shards.Length; rank++) LoadParameters(shards[rank], rank, manifest.Step, parameters, adamStates, loaded);
            }
            int missing = Array.IndexOf(loaded, false);
            if (missing >= 0) throw new DtrainException($"the checkpoint of step {manifest.Step} has no shard holding parameter {missing}");
            // What is left of each shard is its rank's Shampoo state.
            optimizer.Shampoo?.LoadState(shards.Select(shard => shard.BaseStream));
        }
        finally
        {
            foreach (var shard in shards) shard.Dispose();
        }
    }

    private void LoadParameters(BinaryReader reader, int rank, long expectedStep, Tensor[] parameters, List<OptimizerState>? adamStates, bool[] loaded)
    {
        ReadHeader(reader, rank, expectedStep);
        int count = reader.ReadInt32(), owned = reader.ReadInt32();
        if (count != parameters.Length)
        {
            throw new DtrainException($"checkpoint shard {rank} of step {expectedStep} holds {count} parameters; this model has {parameters.Length}");
        }
        for (int k = 0; k < owned; k++)
        {
            int i = reader.ReadInt32();
            using var values = Tensor.Load(reader);
            parameters[i].copy_(values.reshape(parameters[i].shape));
            adamStates?[i].LoadStateDict(reader);
            loaded[i] = true;
        }
    }
}
