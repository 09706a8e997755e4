using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dtrain.Distributed.Checkpoints;

/// <summary>
/// Checkpoint shards of a model every rank holds whole (data-parallel training). The state is split for writing:
/// rank r of W writes parameter i, with its optimizer state, when i mod W = r; an optimizer whose state is split
/// otherwise (Distributed Shampoo's blocks) appends its rank's part after that. Loading reads every shard of a
/// checkpoint, so a checkpoint written by one world size loads onto any other.
/// </summary>
public sealed class ReplicatedCheckpoint(JobSpec job, string model, string optimizer, ShardReport report)
    : ShardedCheckpoint(job, model, optimizer, report)
{
    /// <param name="states">Each parameter's optimizer state, in parameter order (TorchSharp's state_dict().State); null: none.</param>
    /// <param name="writeRest">Writes the rest of this rank's optimizer state after the parameters; null: none.</param>
    public async Task WriteAsync(int rank, int worldSize, long step, nn.Module model, IReadOnlyList<OptimizerState>? states, Action<Stream>? writeRest, CancellationToken ct)
    {
        var parameters = model.parameters().ToArray();
        await WriteShardAsync(rank, step, writer =>
        {
            writer.Write(parameters.Length);
            var owned = Enumerable.Range(0, parameters.Length).Where(i => i % worldSize == rank).ToArray();
            writer.Write(owned.Length);
            foreach (int i in owned)
            {
                writer.Write(i);
                parameters[i].detach().cpu().Save(writer);
                states?[i].SaveStateDict(writer);
            }
            writer.Flush();
            writeRest?.Invoke(writer.BaseStream);
        }, ct);
    }

    /// <summary>Loads the checkpoint after <see cref="JobSpec.ResumeStep"/> steps into the model and optimizer, from all its shards.</summary>
    /// <param name="loadRest">Reads what <c>writeRest</c> wrote, from every shard in rank order; null: nothing.</param>
    public void Load(nn.Module model, IReadOnlyList<OptimizerState>? states, Action<IEnumerable<Stream>>? loadRest)
    {
        var manifest = CheckpointStore.ReadManifest(Job.Checkpoints.Dir, Job.Checkpoints.ResumeStep);
        var parameters = model.parameters().ToArray();
        var loaded = new bool[parameters.Length];
        var shards = Enumerable.Range(0, manifest.WorldSize).Select(rank => CheckpointStore.ReadShard(Job.Checkpoints.Dir, manifest, rank)).ToArray();
        try
        {
            using (no_grad())
            {
                for (int rank = 0; rank < shards.Length; rank++) LoadParameters(shards[rank], rank, manifest.Step, parameters, states, loaded);
            }
            int missing = Array.IndexOf(loaded, false);
            if (missing >= 0) throw new DtrainException($"the checkpoint of step {manifest.Step} has no shard holding parameter {missing}");
            loadRest?.Invoke(shards.Select(shard => shard.BaseStream));
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or FormatException)
        {
            throw new DtrainException($"the optimizer state of the checkpoint of step {manifest.Step} is malformed: {e.Message}");
        }
        finally
        {
            foreach (var shard in shards) shard.Dispose();
        }
    }

    private void LoadParameters(BinaryReader reader, int rank, long expectedStep, Tensor[] parameters, IReadOnlyList<OptimizerState>? states, bool[] loaded)
    {
        try
        {
            ReadHeader(reader, rank, expectedStep);
            int count = reader.ReadInt32(), owned = reader.ReadInt32();
            if (count != parameters.Length)
            {
                throw new DtrainException($"checkpoint shard {rank} of step {expectedStep} holds {count} parameters; this model has {parameters.Length}");
            }
            if (owned < 0 || owned > count) throw new InvalidDataException($"{owned} of its {count} parameters");
            for (int k = 0; k < owned; k++)
            {
                int i = reader.ReadInt32();
                if (i < 0 || i >= count) throw new InvalidDataException($"parameter {i} of {count}");
                SavedTensors.ReadInto(reader, parameters[i], $"parameter {i}");
                states?[i].LoadStateDict(reader);
                loaded[i] = true;
            }
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or FormatException)
        {
            // Past its checksum, a shard whose contents do not parse was written wrong, not damaged on the way.
            throw new DtrainException($"checkpoint shard {rank} of step {expectedStep} is malformed: {e.Message}");
        }
    }
}
