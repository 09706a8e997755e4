using Orleans.TestingHost;

namespace Dtrain.Tests.Coordinator;

/// <summary>A test class whose every test gets a fresh in-process Orleans cluster of one silo.</summary>
public abstract class ClusterTest : IAsyncLifetime
{
    protected TestCluster Cluster { get; } = new TestClusterBuilder(1).Build();

    protected IGrainFactory Grains => Cluster.GrainFactory;

    public Task InitializeAsync() => Cluster.DeployAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
