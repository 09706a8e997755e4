using Dtrain.Contracts.Jobs;
using Dtrain.Launcher.Jobs;
using Dtrain.Optimizers.Shampoo;
using Dtrain.Training;

namespace Dtrain.Tests.Jobs;

public class JobSpecTests
{
    private static readonly JobSpec Unusual = new()
    {
        Workers = 3, Steps = 17, BatchSize = 5, LearningRate = 0.125, Optimizer = "shampoo", Seed = 99, Device = "cpu",
        BucketMegabytes = 0.5, Compression = "bf16", Overlap = false, Transport = "mpi", CollectiveTimeoutSeconds = 42, Port = 31000,
        Model = "graphsage", Graph = "/data/parts", Fanouts = "7,3", GraphTask = "link", FeatureCache = 12,
        CheckpointDir = "/data/checkpoints", CheckpointEvery = 7, KeepCheckpoints = 2, Resume = true, MaxRestarts = 4, HeartbeatTimeoutSeconds = 2.5,
        MinWorkers = 2, LastCallSeconds = 1.5, JoinTimeoutSeconds = 60,
        Shampoo = ShampooOptionsJson.Serialize(new ShampooOptions
        {
            PreconditionFrequency = 5, Grafting = GraftingType.Rmsprop, WeightDecay = 0.01, WeightDecayType = WeightDecayType.Independent,
            InverseExponentOverride = new Dictionary<int, double[]> { [2] = [0.25, 0] }, CommunicationDtype = Precision.Bf16,
            FactorMatrixDtype = Precision.Fp64, RootMethod = RootMethod.CoupledNewton, NumTrainersPerGroup = 1,
        }),
    };

    [Fact]
    public void What_workers_receive_is_the_whole_job_except_the_coordinator_port()
    {
        var resuming = Unusual with { ResumeStep = 14 };
        Assert.Equal(resuming with { Port = new JobSpec().Port }, JobSpec.FromSettings(resuming.ToSettings()));
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
            collective_timeout_s: 42
            port: 31000
            model: graphsage
            graph: /data/parts
            fanouts: [7, 3]
            graph_task: link
            feature_cache: 12
            checkpoint_dir: /data/checkpoints
            checkpoint_every: 7
            keep_checkpoints: 2
            resume: true
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
            var spec = JobFile.Load(path).ApplyTo(new JobSpec());
            Assert.Equal(Unusual, spec);
            var shampoo = JobShampoo.Options(spec);
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
    public void Without_a_shampoo_section_a_job_uses_the_recipe_at_its_lr()
    {
        Assert.Equal(JobShampoo.Recipe with { LearningRate = 0.125 }, JobShampoo.Options(new JobSpec { LearningRate = 0.125 }));
    }

    [Fact]
    public void The_defaults_are_valid_and_every_bad_field_is_named()
    {
        Assert.Empty(new JobSpec().Problems());
        var bad = new JobSpec { Workers = 0, Steps = 0, BatchSize = 0, LearningRate = 0, Optimizer = "lamb", Device = "tpu", BucketMegabytes = 0, Compression = "zip", Transport = "tcp", CollectiveTimeoutSeconds = -1, Port = 0 };
        Assert.Equal(
            ["workers", "steps", "batch_size", "lr", "optimizer", "device", "bucket_mb", "compression", "transport", "collective_timeout_s", "port"],
            bad.Problems().Select(p => p.Split(' ')[0]));
        var badGraph = new JobSpec { Model = "graphsage", Fanouts = "10,,5", GraphTask = "edge", FeatureCache = -1 };
        Assert.Equal(["fanouts", "graph_task", "feature_cache"], badGraph.Problems().Select(p => p.Split(' ')[0]));
        var badElastic = new JobSpec { Workers = 4, MinWorkers = 5, LastCallSeconds = -1, JoinTimeoutSeconds = 0 };
        Assert.Equal(["min_workers", "last_call_s", "join_timeout_s"], badElastic.Problems().Select(p => p.Split(' ')[0]));
        // A world that may shrink must be one whose work can be split anew.
        Assert.Equal(["min_workers below workers needs a world that may shrink: model mlp or graphsage on the generated graph, over grpc"],
            new JobSpec { Workers = 4, MinWorkers = 2, Model = "cannon-mlp" }.Problems());
    }
}
