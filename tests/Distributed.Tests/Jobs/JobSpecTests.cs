using Dtrain.Contracts.Jobs;
using Dtrain.Launcher.Jobs;
using Dtrain.Optimizers.Shampoo;
using System.CommandLine;
using System.Text.Json.Nodes;

namespace Dtrain.Tests.Jobs;

public class JobSpecTests
{
    private static readonly JobSpec Unusual = new()
    {
        Workers = 3, Steps = 17, BatchSize = 5, LearningRate = 0.125, Optimizer = OptimizerKind.Shampoo, Seed = 99, Device = DeviceKind.Cpu,
        BucketMegabytes = 0.5, Compression = CompressionKind.Bf16, Overlap = false, Transport = TransportKind.Mpi, DataChannel = DataChannelKind.Tcp,
        CollectiveTimeoutSeconds = 42, Port = 31000, Model = ModelKind.Graphsage, Data = "/data/text", ShardOptimizerState = true,
        Graph = new() { Dir = "/data/parts", Fanouts = [7, 3], Task = GraphTaskKind.Link, Gnn = GnnKind.SagePool, FeatureCache = 12 },
        Checkpoints = new() { Dir = "/data/checkpoints", Every = 7, Keep = 2, Resume = true, ResumeStep = 14 },
        Elastic = new() { MaxRestarts = 4, HeartbeatTimeoutSeconds = 2.5, MinWorkers = 2, LastCallSeconds = 1.5, JoinTimeoutSeconds = 60 },
        Shampoo = new ShampooOptions
        {
            PreconditionFrequency = 5, Grafting = GraftingType.Rmsprop, WeightDecay = 0.01, WeightDecayType = WeightDecayType.Independent,
            InverseExponentOverride = new Dictionary<int, double[]> { [2] = [0.25, 0] }, CommunicationDtype = Precision.Bf16,
            FactorMatrixDtype = Precision.Fp64, RootMethod = RootMethod.CoupledNewton, NumTrainersPerGroup = 1,
        },
    };

    /// <summary>Every field of a job document, by its dotted path, with its value (the shampoo section as a whole).</summary>
    private static Dictionary<string, string> Leaves(JsonNode? node, string prefix = "") => node is JsonObject section && prefix != "shampoo."
        ? section.SelectMany(field => Leaves(field.Value, prefix + field.Key + ".")).ToDictionary()
        : new() { [prefix.TrimEnd('.')] = node?.ToJsonString() ?? "null" };

    [Fact]
    public void The_unusual_job_sets_every_field_and_workers_receive_all_of_it()
    {
        var unusual = Leaves(JobJson.ToNode(Unusual));
        var defaults = Leaves(JobJson.ToNode(new JobSpec()));
        Assert.Equal(defaults.Keys.Order(), unusual.Keys.Order());
        Assert.DoesNotContain(unusual, field => defaults[field.Key] == field.Value);
        Assert.Equal(unusual, Leaves(JobJson.ToNode(JobJson.Deserialize(JobJson.Serialize(Unusual)))));
    }

    [Fact]
    public void A_job_file_can_set_every_field()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, """
            workers: 3
            steps: 17
            batch_size: 5
            lr: 0.125
            optimizer: shampoo
            seed: 99
            device: cpu
            bucket_mb: 0.5
            compression: bf16
            overlap: false
            transport: mpi
            data_channel: tcp
            collective_timeout_s: 42
            port: 31000
            model: graphsage
            data: /data/text
            shard_optimizer_state: true
            graph:
              dir: /data/parts
              fanouts: [7, 3]
              task: link
              gnn: sage-pool
              feature_cache: 12
            checkpoints:
              dir: /data/checkpoints
              every: 7
              keep: 2
              resume: true
              resume_step: 14
            elastic:
              max_restarts: 4
              heartbeat_timeout_s: 2.5
              min_workers: 2
              last_call_s: 1.5
              join_timeout_s: 60
            shampoo:
              precondition_frequency: 5
              grafting: rmsprop
              weight_decay: 0.01
              weight_decay_type: independent
              inverse_exponent_override: {2: [0.25, 0]}
              communication_dtype: bf16
              factor_matrix_dtype: fp64
              root_method: coupled_newton
              num_trainers_per_group: 1
            """);
        try
        {
            var spec = JobOptions.FromFile(new FileInfo(path));
            Assert.Equal(Leaves(JobJson.ToNode(Unusual)), Leaves(JobJson.ToNode(spec)));
            var shampoo = spec.EffectiveShampoo;
            Assert.Equal((5, GraftingType.Rmsprop, WeightDecayType.Independent, Precision.Bf16, Precision.Fp64, RootMethod.CoupledNewton, 1, 0.125),
                (shampoo.PreconditionFrequency, shampoo.Grafting, shampoo.WeightDecayType, shampoo.CommunicationDtype, shampoo.FactorMatrixDtype, shampoo.RootMethod, shampoo.NumTrainersPerGroup, shampoo.LearningRate));
            Assert.Equal([0.25, 0], shampoo.InverseExponentOverride[2]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Flags_set_every_flagged_field_over_the_job_file()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "steps: 5\ngraph:\n  fanouts: [2]\nelastic:\n  max_restarts: 1\n");
        try
        {
            var options = new JobOptions();
            var command = new RootCommand();
            options.AddTo(command);
            var parse = command.Parse([path, "-n", "3", "--steps", "17", "--batch-size", "5", "--lr", "0.125", "--model", "graphsage", "--data", "/data/text",
                "--optimizer", "shampoo", "--shard-optimizer-state", "--seed", "99", "--device", "cpu", "--bucket-mb", "0.5", "--compression", "bf16",
                "--overlap", "false", "--transport", "mpi", "--data-channel", "tcp", "--collective-timeout", "42", "--port", "31000",
                "--graph", "/data/parts", "--fanouts", "7,3", "--graph-task", "link", "--gnn", "sage-pool", "--feature-cache", "12",
                "--checkpoint-dir", "/data/checkpoints", "--checkpoint-every", "7", "--keep-checkpoints", "2", "--resume",
                "--max-restarts", "4", "--heartbeat-timeout", "2.5", "--min-workers", "2", "--last-call", "1.5", "--join-timeout", "60"]);
            Assert.Empty(parse.Errors);
            var flagged = Leaves(JobJson.ToNode(options.Read(parse)));
            var expected = Leaves(JobJson.ToNode(Unusual with { Shampoo = null, Checkpoints = Unusual.Checkpoints with { ResumeStep = 0 } }));
            Assert.Equal(expected, flagged);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Settings_the_job_does_not_use_are_named_in_one_warning_and_the_job_goes_on()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "steps: 5\ngraph:\n  fanouts: [2]\nshampoo:\n  epsilon: 1.0e-6\n");
        try
        {
            var options = new JobOptions();
            var command = new RootCommand();
            options.AddTo(command);
            var warnings = new StringWriter();

            var job = options.Resolve(command.Parse([path, "--gnn", "gat", "--data-channel", "tcp"]), builtIn: true, warnings);

            Assert.Equal(5, job.Steps);
            Assert.Equal("dtrain: warning: ignoring settings this job does not use: graph.fanouts, --gnn (only model graphsage reads them); " +
                "shampoo.epsilon (only optimizer shampoo reads them)\n", warnings.ToString());
            options.Resolve(command.Parse([path, "--model", "graphsage", "--optimizer", "shampoo"]), builtIn: true, warnings = new StringWriter());
            Assert.Equal("", warnings.ToString());
            options.Resolve(command.Parse([path]), builtIn: false, warnings);
            Assert.Equal("", warnings.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_field_of_the_wrong_form_is_named_with_its_line()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "steps: 5\ngraph:\n  task: edge\n");
        try
        {
            var problem = Assert.Throws<UsageException>(() => JobOptions.FromFile(new FileInfo(path)));
            Assert.Equal($"job file {path}, line 3: graph.task must be one of node, link, got 'edge'", problem.Message);
            File.WriteAllText(path, "steps: 5\ncheckpoints:\n  evry: 5\n");
            problem = Assert.Throws<UsageException>(() => JobOptions.FromFile(new FileInfo(path)));
            Assert.Equal($"job file {path}, line 3: unknown field 'checkpoints.evry' (known: dir, every, keep, resume, resume_step)", problem.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Without_a_shampoo_section_a_job_uses_the_recipe_at_its_lr()
    {
        Assert.Equal(ShampooOptions.JobRecipe with { LearningRate = 0.125 }, new JobSpec { LearningRate = 0.125 }.EffectiveShampoo);
    }

    [Fact]
    public void The_defaults_are_valid_and_every_bad_field_is_named()
    {
        Assert.Empty(new JobSpec().Problems());
        var bad = new JobSpec { Workers = 0, Steps = 0, BatchSize = 0, LearningRate = 0, BucketMegabytes = 0, CollectiveTimeoutSeconds = -1, Port = 0 };
        Assert.Equal(
            ["workers", "steps", "batch_size", "lr", "bucket_mb", "collective_timeout_s", "port"],
            bad.Problems().Select(p => p.Split(' ')[0]));
        var badGraph = new JobSpec { Model = ModelKind.Graphsage, Graph = new() { Fanouts = [10, 0, 5], FeatureCache = -1 } };
        Assert.Equal(["graph.fanouts", "graph.feature_cache"], badGraph.Problems().Select(p => p.Split(' ')[0]));
        var badElastic = new JobSpec { Workers = 4, Elastic = new() { MinWorkers = 5, LastCallSeconds = -1, JoinTimeoutSeconds = 0 } };
        Assert.Equal(["elastic.min_workers", "elastic.last_call_s", "elastic.join_timeout_s"], badElastic.Problems().Select(p => p.Split(' ')[0]));
        // A world that may shrink must be one whose work can be split anew.
        Assert.Equal(["elastic.min_workers below workers needs a world that may shrink: model mlp or graphsage, over grpc"],
            new JobSpec { Workers = 4, Elastic = new() { MinWorkers = 2 }, Model = ModelKind.CannonMlp }.Problems());
    }
}
