using Dtrain.Launcher;

namespace Dtrain.Tests.Launcher;

/// <summary>
/// The variables each launcher users already have sets (as those launchers set them), and what `dtrain worker`
/// makes of them: its rank, the world size and the coordinator's address.
/// </summary>
public class LaunchContractTests
{
    private static readonly (int?, int?, string?) NoFlags = (null, null, null);

    private static LaunchedWorker Resolve(Dictionary<string, string> environment, (int?, int?, string?)? flags = null, string scheme = "http") =>
        LaunchContract.Resolve(flags ?? NoFlags, environment, scheme);

    private static string Refusal(Dictionary<string, string> environment, (int?, int?, string?)? flags = null) =>
        Assert.Throws<UsageException>(() => Resolve(environment, flags)).Message;

    [Fact]
    public void Torchrun_gives_RANK_WORLD_SIZE_and_the_master_as_the_coordinator()
    {
        var torchrun = new Dictionary<string, string>
        {
            ["RANK"] = "3", ["WORLD_SIZE"] = "4", ["LOCAL_RANK"] = "1", ["LOCAL_WORLD_SIZE"] = "2",
            ["MASTER_ADDR"] = "10.0.0.7", ["MASTER_PORT"] = "29400", ["TORCHELASTIC_RESTART_COUNT"] = "0",
        };
        Assert.Equal(new LaunchedWorker(3, 4, "http://10.0.0.7:29400"), Resolve(torchrun));
        Assert.Equal(new LaunchedWorker(3, 4, "https://10.0.0.7:29400"), Resolve(torchrun, scheme: "https"));
    }

    [Fact]
    public void A_PyTorchJob_pod_sets_the_torchrun_and_the_PET_variables_and_they_agree()
    {
        // Kubeflow's training operator: worker replica 1 is rank 2 (the master is rank 0), on three pods.
        var pyTorchJob = new Dictionary<string, string>
        {
            ["RANK"] = "2", ["WORLD_SIZE"] = "3", ["MASTER_ADDR"] = "mnist-master-0", ["MASTER_PORT"] = "23456",
            ["PET_NODE_RANK"] = "2", ["PET_NNODES"] = "3", ["PET_MASTER_ADDR"] = "mnist-master-0", ["PET_MASTER_PORT"] = "23456",
            ["PET_NPROC_PER_NODE"] = "auto", ["PYTHONUNBUFFERED"] = "1",
        };
        Assert.Equal(new LaunchedWorker(2, 3, "http://mnist-master-0:23456"), Resolve(pyTorchJob));
    }

    [Fact]
    public void Kubeflow_Trainer_gives_the_PET_variables()
    {
        var trainer = new Dictionary<string, string>
        {
            ["PET_NODE_RANK"] = "1", ["PET_NNODES"] = "2", ["PET_NPROC_PER_NODE"] = "1",
            ["PET_MASTER_ADDR"] = "job-node-0-0.job", ["PET_MASTER_PORT"] = "29500", ["JOB_COMPLETION_INDEX"] = "1",
        };
        Assert.Equal(new LaunchedWorker(1, 2, "http://job-node-0-0.job:29500"), Resolve(trainer));
    }

    [Fact]
    public void An_Indexed_Job_gives_the_rank_and_the_pod_the_rest()
    {
        var indexedJob = new Dictionary<string, string>
        {
            ["JOB_COMPLETION_INDEX"] = "5", ["DTRAIN_WORLD_SIZE"] = "8", ["DTRAIN_COORDINATOR"] = "http://mnist-coordinator:29500",
        };
        Assert.Equal(new LaunchedWorker(5, 8, "http://mnist-coordinator:29500"), Resolve(indexedJob));

        indexedJob.Remove("DTRAIN_WORLD_SIZE");
        Assert.Equal(new LaunchedWorker(5, null, "http://mnist-coordinator:29500"), Resolve(indexedJob));
    }

    [Theory]
    [InlineData("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")]
    [InlineData("PMI_RANK", "PMI_SIZE")]
    public void Mpiexec_gives_the_MPI_rank_and_size(string rankVariable, string sizeVariable)
    {
        var mpi = new Dictionary<string, string> { [rankVariable] = "1", [sizeVariable] = "3", ["DTRAIN_COORDINATOR"] = "http://head:29500" };
        Assert.Equal(new LaunchedWorker(1, 3, "http://head:29500"), Resolve(mpi));
    }

    [Fact]
    public void Without_a_launcher_the_coordinator_assigns_the_rank()
    {
        Assert.Equal(new LaunchedWorker(null, null, "http://127.0.0.1:29500"), Resolve([], (null, null, "http://127.0.0.1:29500")));
    }

    [Fact]
    public void DTRAIN_variables_take_precedence_over_the_launchers_and_flags_over_everything()
    {
        var environment = new Dictionary<string, string>
        {
            ["DTRAIN_COORDINATOR"] = "http://dtrain:1", ["MASTER_ADDR"] = "master", ["MASTER_PORT"] = "2",
            ["RANK"] = "1", ["WORLD_SIZE"] = "2",
        };
        Assert.Equal(new LaunchedWorker(1, 2, "http://dtrain:1"), Resolve(environment));
        // A flag overrides the environment, even where they differ: it is the user's explicit word.
        Assert.Equal(new LaunchedWorker(0, 4, "http://flag:3"), Resolve(environment, (0, 4, "http://flag:3")));
    }

    [Fact]
    public void An_IPv6_master_address_is_bracketed()
    {
        Assert.Equal("http://[fd00::7]:29500", Resolve(new() { ["MASTER_ADDR"] = "fd00::7", ["MASTER_PORT"] = "29500" }).Coordinator);
    }

    [Theory]
    [InlineData("RANK=1 and JOB_COMPLETION_INDEX=0 disagree", "RANK=1", "WORLD_SIZE=2", "JOB_COMPLETION_INDEX=0")]
    [InlineData("DTRAIN_WORLD_SIZE=4 and WORLD_SIZE=2 disagree", "DTRAIN_WORLD_SIZE=4", "WORLD_SIZE=2")]
    [InlineData("RANK=1 and PMI_RANK=0 disagree", "RANK=1", "PMI_RANK=0", "PMI_SIZE=2")]
    [InlineData("PET_NNODES=2 and OMPI_COMM_WORLD_SIZE=3 disagree", "PET_NNODES=2", "OMPI_COMM_WORLD_RANK=0", "OMPI_COMM_WORLD_SIZE=3")]
    [InlineData("RANK=2 is not a rank of a job of WORLD_SIZE=2 workers", "RANK=2", "WORLD_SIZE=2")]
    [InlineData("JOB_COMPLETION_INDEX=4 is not a rank of a job of DTRAIN_WORLD_SIZE=4 workers", "JOB_COMPLETION_INDEX=4", "DTRAIN_WORLD_SIZE=4")]
    [InlineData("RANK=first is not a rank (a whole number from 0)", "RANK=first")]
    [InlineData("WORLD_SIZE=0 is not a number of workers (a whole number from 1)", "WORLD_SIZE=0")]
    [InlineData("PET_NNODES=1:4 is not a number of workers (a whole number from 1)", "PET_NNODES=1:4")]
    [InlineData("PET_NPROC_PER_NODE=8: dtrain runs one worker process per node (set it to 1, and one GPU per worker)", "PET_NPROC_PER_NODE=8")]
    [InlineData("MASTER_ADDR is set but MASTER_PORT is not", "MASTER_ADDR=head")]
    [InlineData("PET_MASTER_PORT is set but PET_MASTER_ADDR is not", "PET_MASTER_PORT=29500")]
    [InlineData("PMI_RANK=3 and PMI_SIZE=2 do not name a rank of a job of that size", "PMI_RANK=3", "PMI_SIZE=2")]
    public void Malformed_or_conflicting_variables_are_refused_naming_them(string expected, params string[] variables)
    {
        var environment = variables.Select(v => v.Split('=', 2)).ToDictionary(v => v[0], v => v[1]);
        environment["DTRAIN_COORDINATOR"] = "http://head:29500";
        Assert.Equal(expected, Refusal(environment));
    }

    [Fact]
    public void Flags_are_checked_like_variables()
    {
        Assert.Equal("--rank 3 is not a rank of a job of WORLD_SIZE=3 workers", Refusal(new() { ["WORLD_SIZE"] = "3" }, (3, null, "http://head:1")));
        Assert.Equal("--rank -1 is not a rank (a whole number from 0)", Refusal([], (-1, null, "http://head:1")));
    }

    [Theory]
    [InlineData("--coordinator must be an http:// or https:// address such as http://127.0.0.1:29500, got 'garbage'", "garbage", null, null)]
    [InlineData("--coordinator must be an http:// or https:// address such as http://127.0.0.1:29500, got 'ftp://head:1'", "ftp://head:1", null, null)]
    [InlineData("MASTER_ADDR:MASTER_PORT must be an http:// or https:// address such as http://127.0.0.1:29500, got 'http://head:99999'", null, "head", "99999")]
    [InlineData("MASTER_ADDR:MASTER_PORT must be an http:// or https:// address such as http://127.0.0.1:29500, got 'http://a b:1'", null, "a b", "1")]
    public void A_coordinator_address_that_is_not_a_url_is_refused_naming_where_it_came_from(string expected, string? flag, string? host, string? port)
    {
        var environment = host is null ? new Dictionary<string, string>() : new() { ["MASTER_ADDR"] = host, ["MASTER_PORT"] = port! };
        Assert.Equal(expected, Refusal(environment, (null, null, flag)));
    }

    [Fact]
    public void A_worker_without_a_coordinator_address_is_told_where_to_give_one()
    {
        Assert.Equal("the coordinator's address is missing: pass --coordinator, or set DTRAIN_COORDINATOR (or MASTER_ADDR and MASTER_PORT)",
            Refusal(new() { ["RANK"] = "0", ["WORLD_SIZE"] = "1" }));
    }
}
