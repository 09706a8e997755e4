using Dtrain.Contracts.Jobs;
using Dtrain.Launcher.Jobs;

namespace Dtrain.Tests.Jobs;

public class JobSpecTests
{
    private static readonly JobSpec Unusual = new()
    {
        Workers = 3, Steps = 17, BatchSize = 5, LearningRate = 0.125, Optimizer = "shampoo", Seed = 99, Device = "cpu",
        BucketMegabytes = 0.5, Compression = "bf16", Transport = "mpi", CollectiveTimeoutSeconds = 42, Port = 31000,
    };

    [Fact]
    public void What_workers_receive_is_the_whole_job_except_the_coordinator_port()
    {
        Assert.Equal(Unusual with { Port = new JobSpec().Port }, JobSpec.FromSettings(Unusual.ToSettings()));
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
            transport: mpi
            collective_timeout_s: 42
            port: 31000
            """);
        try
        {
            Assert.Equal(Unusual, JobFile.Load(path).ApplyTo(new JobSpec()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_defaults_are_valid_and_every_bad_field_is_named()
    {
        Assert.Empty(new JobSpec().Problems());
        var bad = new JobSpec { Workers = 0, Steps = 0, BatchSize = 0, LearningRate = 0, Optimizer = "lamb", Device = "tpu", BucketMegabytes = 0, Compression = "zip", Transport = "tcp", CollectiveTimeoutSeconds = -1, Port = 0 };
        Assert.Equal(
            ["workers", "steps", "batch_size", "lr", "optimizer", "device", "bucket_mb", "compression", "transport", "collective_timeout_s", "port"],
            bad.Problems().Select(p => p.Split(' ')[0]));
    }
}
