using System.Diagnostics;
using Dtrain.Collectives.Transports.InProcess;
using Dtrain.Contracts;
using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Jobs;
using Dtrain.Contracts.Storage;
using Dtrain.Graph.Generators;
using Dtrain.Graph.Partitioning;
using Dtrain.Graph.Storage;
using Dtrain.Launcher.Jobs;
using Dtrain.Optimizers.Flat;
using Dtrain.Tests.Graph;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Dtrain.Tests.Fuzzing;

/// <summary>
/// Every file format dtrain reads, fed mutations of a valid file (<see cref="Mutator"/>, seeded): each input is read
/// whole or refused with the reader's one-line user error (a <see cref="DtrainException"/>; a job file's is a
/// <see cref="UsageException"/>), within a time bound, and never with another exception. The counts are in
/// docs/benchmarks.md ("Reliability: fuzzing the file readers").
/// </summary>
public class FileReaderFuzzTests(ITestOutputHelper output)
{
    private const int Inputs = 1000;
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(5);

    /// <summary>Reads each input, checking the outcome against the contract; the inputs that were read and refused.</summary>
    private (int Read, int Refused) Fuzz<TError>(string format, int count, Func<int, string> prepare, Action read) where TError : DtrainException
    {
        var clock = Stopwatch.StartNew();
        var crashes = new List<string>();
        int refused = 0;
        for (int i = 0; i < count; i++)
        {
            string input = prepare(i);
            var reading = Task.Run(read);
            try
            {
                Assert.True(reading.Wait(PerInput), $"{format} input {i} still read after {PerInput.TotalSeconds} s: {input}");
            }
            catch (AggregateException failed) when (failed.InnerException is { } error)
            {
                if (error is not TError) crashes.Add($"input {i}: {error.GetType().Name} instead of a {typeof(TError).Name}: {error}\ninput: {input}");
                else if (error.Message.Contains('\n')) crashes.Add($"input {i}: a message of more than one line: {error.Message}");
                refused++;
            }
        }
        output.WriteLine($"{format}: {count} inputs, {count - refused} read, {refused} refused, {crashes.Count} crashes, 0 hangs, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(crashes.Count == 0, $"{format}: {crashes.Count} crashes, the first ones:\n{string.Join("\n\n", crashes.Take(3))}");
        return (count - refused, refused);
    }

    private const string GraphJob = """
        workers: 4
        steps: 20
        batch_size: 32
        lr: 0.005
        model: graphsage
        seed: 7
        graph:
          fanouts: [5, 3]
          gnn: sage-pool
          feature_cache: 128
        checkpoints:
          dir: /tmp/ckpt
          every: 5
          keep: 2
        elastic:
          max_restarts: 2
          heartbeat_timeout_s: 2.5
          min_workers: 2
          last_call_s: 1
          join_timeout_s: 30
        """;

    private const string ShampooJob = """
        workers: 4
        optimizer: shampoo
        bucket_mb: 0.5
        compression: bf16
        collective_timeout_s: 60
        shampoo:
          beta2: 0.999
          epsilon: 1.0e-8
          precondition_frequency: 5
          grafting: adam
          num_trainers_per_group: 2
          inverse_exponent_override:
            2: [0.25, 0.5]
        """;

    /// <summary>Aliases that expand exponentially or refer to themselves, nesting that would recurse out of the stack.</summary>
    private static readonly string[] Hostile =
    [
        string.Concat(Enumerable.Range(0, 9).Select(level => level == 0 ? "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" : $"a{level}: &a{level} [{string.Join(", ", Enumerable.Repeat($"*a{level - 1}", 9))}]\n")),
        "workers: &x [*x]\n",
        new string('[', 100_000),
        "graph:\n" + string.Concat(Enumerable.Range(1, 200).Select(depth => new string(' ', 2 * depth) + "x:\n")),
        "shampoo: {epsilon: .nan}\n",
        "lr: 1e999\n",
        "!!str workers: 2\nworkers: 3\n",
    ];

    [Fact]
    public void Job_files()
    {
        string[] valid = [GraphJob, ShampooJob, "workers: 2\nsteps: 10\n"];
        var mutator = new Mutator(1);
        string text = "";
        var (read, refused) = Fuzz<UsageException>("job YAML", Hostile.Length + 2 * Inputs,
            i => text = i < Hostile.Length ? Hostile[i] : mutator.Yaml(valid[i % valid.Length]),
            () =>
            {
                var job = JobOptions.FromFile(JobFile.Parse("fuzz.yaml", text));
                JobOptions.Check(job, null, []);
                // What the coordinator hands its workers must read back as the same job.
                Assert.Equal(JobJson.Serialize(job), JobJson.Serialize(JobJson.Deserialize(JobJson.Serialize(job))));
            });
        Assert.True(read > 0 && refused > 0, $"{read} read, {refused} refused: the mutations should produce both");
    }

    [Fact]
    public void Graph_files()
    {
        using var directory = new TempDirectory();
        string path = directory.File("karate.dtg");
        GraphFile.Write(path, KarateClub.Generate());
        var valid = File.ReadAllBytes(path);
        var mutator = new Mutator(2);
        Fuzz<DtrainException>(".dtg graph", Inputs, i =>
        {
            var bytes = i % 2 == 0 ? mutator.Bytes(valid) : mutator.Sealed(valid);
            File.WriteAllBytes(path, bytes);
            return Convert.ToHexString(bytes);
        }, () => GraphFile.Read(path));
    }

    [Fact]
    public void Partition_manifests()
    {
        using var directory = new TempDirectory();
        PartitionStore.Write(directory.Path, GraphPartitioner.Partition(KarateClub.Generate(), PartitionMethod.Random, 2, 1), "karate", PartitionMethod.Random, 1);
        string path = directory.File(PartitionStore.ManifestName), valid = File.ReadAllText(path);
        var mutator = new Mutator(3);
        Fuzz<DtrainException>("partition manifest", Inputs, _ =>
        {
            string text = mutator.Json(valid);
            File.WriteAllText(path, text);
            return text;
        }, () =>
        {
            var manifest = PartitionStore.ReadManifest(directory.Path);
            PartitionStore.CheckPartitionCount(directory.Path, manifest, 2);
            for (int p = 0; p < manifest.PartitionCount; p++) PartitionStore.ReadPartition(directory.Path, p);
        });
    }

    /// <summary>A committed checkpoint of step 3 of a small model and its flat AdamW state, written by two ranks; then each input is loaded the way a resuming rank loads it.</summary>
    private sealed class Checkpoint : IDisposable
    {
        public const long Step = 3;
        private readonly TempDirectory directory = new();
        private readonly nn.Module<Tensor, Tensor> model = TrainingSteps.CreateSeeded(11, () => nn.Sequential(("a", nn.Linear(3, 4)), ("b", nn.Linear(4, 2))));
        private readonly FlatParameters flat;
        private readonly FlatAdamW adamw;
        private readonly JobCheckpoints resuming;

        public Checkpoint()
        {
            flat = new FlatParameters(model.parameters(), 1);
            adamw = new FlatAdamW(flat, new AdamWOptions { LearningRate = 0.01 });
            var job = new JobSpec { Checkpoints = new() { Dir = directory.Path, Every = 1 } };
            var shards = new CheckpointShard[2];
            foreach (var comm in InProcessGroup.Create(2))
            {
                new JobCheckpoints(job, (rank, _, file, checksum, _) =>
                {
                    shards[rank] = new CheckpointShard { Rank = rank, File = file, Checksum = checksum };
                    return Task.CompletedTask;
                }, comm).SaveAsync((int)Step, model, adamw).GetAwaiter().GetResult();
            }
            Manifest = new CheckpointManifest { FormatVersion = CheckpointManifest.CurrentFormatVersion, Step = Step, WorldSize = 2, Shards = shards };
            CheckpointStore.Commit(directory.Path, Manifest, keep: 1);
            var resumed = job with { Checkpoints = job.Checkpoints with { ResumeStep = Step } };
            resuming = new JobCheckpoints(resumed, (_, _, _, _, _) => Task.CompletedTask, InProcessGroup.Create(1)[0]);
            ValidManifest = File.ReadAllText(ManifestPath);
            ValidShard = File.ReadAllBytes(ShardPath(0));
        }

        public CheckpointManifest Manifest { get; }

        public string ValidManifest { get; }

        public byte[] ValidShard { get; }

        public string ManifestPath => Path.Combine(CheckpointStore.DirectoryOf(directory.Path, Step), CheckpointStore.ManifestName);

        public string ShardPath(int rank) => Path.Combine(CheckpointStore.DirectoryOf(directory.Path, Step), CheckpointStore.ShardName(rank));

        public void Load()
        {
            CheckpointStore.LatestValid(directory.Path, out _);
            Assert.Equal((int)Step, resuming.Load(model, adamw));
        }

        public void Dispose()
        {
            adamw.Dispose();
            flat.Dispose();
            model.Dispose();
            directory.Dispose();
        }
    }

    [Fact]
    public void Checkpoint_manifests()
    {
        using var checkpoint = new Checkpoint();
        var mutator = new Mutator(4);
        Fuzz<DtrainException>("checkpoint manifest", Inputs, _ =>
        {
            string text = mutator.Json(checkpoint.ValidManifest);
            File.WriteAllText(checkpoint.ManifestPath, text);
            return text;
        }, checkpoint.Load);
    }

    [Fact]
    public void Checkpoint_shards()
    {
        using var checkpoint = new Checkpoint();
        var mutator = new Mutator(5);
        Fuzz<DtrainException>("checkpoint shard", Inputs, i =>
        {
            // Half of them damaged on disk; half written wrong, behind a right checksum that the manifest lists too.
            var bytes = i % 2 == 0 ? mutator.Bytes(checkpoint.ValidShard) : mutator.Sealed(checkpoint.ValidShard);
            File.WriteAllBytes(checkpoint.ShardPath(0), bytes);
            var manifest = checkpoint.Manifest with { Shards = [checkpoint.Manifest.Shards[0] with { Checksum = ManifestJson.Hex(Checksum(bytes)) }, checkpoint.Manifest.Shards[1]] };
            ManifestJson.WriteAtomically(checkpoint.ManifestPath, manifest);
            return Convert.ToHexString(bytes);
        }, checkpoint.Load);
    }

    private static ulong Checksum(byte[] file) => file.Length < 8 ? 0 : System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(file.Length - 8));
}
