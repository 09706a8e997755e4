using Dtrain.Collectives.Transports.Mpi;

namespace Dtrain.Tests.Collectives;

/// <summary>Recognising a process started by MPICH's Hydra or Open MPI's mpirun from its environment.</summary>
public class MpiEnvironmentTests
{
    [Fact]
    public void Hydra_sets_PMI_RANK_and_PMI_SIZE()
    {
        var mpi = MpiEnvironment.Read(new Dictionary<string, string> { ["PMI_RANK"] = "2", ["PMI_SIZE"] = "4", ["HOME"] = "/root" });

        Assert.True(mpi.IsLaunchedByMpi);
        Assert.Equal(new MpiEnvironment("hydra", 2, 4), mpi);
    }

    [Fact]
    public void Open_MPI_sets_OMPI_COMM_WORLD_RANK_and_SIZE_and_wins_over_PMI()
    {
        var variables = new Dictionary<string, string>
        {
            ["OMPI_COMM_WORLD_RANK"] = "1", ["OMPI_COMM_WORLD_SIZE"] = "3", ["OMPI_COMM_WORLD_LOCAL_RANK"] = "1",
        };
        Assert.Equal(new MpiEnvironment("openmpi", 1, 3), MpiEnvironment.Read(variables));

        variables["PMI_RANK"] = "0";
        variables["PMI_SIZE"] = "1";
        Assert.Equal(new MpiEnvironment("openmpi", 1, 3), MpiEnvironment.Read(variables));
    }

    [Fact]
    public void Without_both_variables_of_a_launcher_the_process_is_alone()
    {
        var alone = MpiEnvironment.Read(new Dictionary<string, string> { ["PMI_RANK"] = "1", ["OMPI_COMM_WORLD_SIZE"] = "2" });

        Assert.False(alone.IsLaunchedByMpi);
        Assert.Equal((0, 1), (alone.Rank, alone.Size));
    }

    [Theory]
    [InlineData("4", "4")]
    [InlineData("-1", "4")]
    [InlineData("one", "4")]
    [InlineData("0", "0")]
    public void Values_that_do_not_name_a_rank_are_refused(string rank, string size)
    {
        var error = Assert.Throws<MpiException>(() => MpiEnvironment.Read(new Dictionary<string, string> { ["PMI_RANK"] = rank, ["PMI_SIZE"] = size }));
        Assert.Equal($"PMI_RANK={rank} and PMI_SIZE={size} do not name a rank of a job of that size", error.Message);
    }
}
