using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Dtrain.Tests.Coordinator;

/// <summary>
/// A test class whose every test gets a fresh in-process Orleans cluster of one silo, whose grains keep their state
/// in memory and see the coordinator options of <see cref="Job"/>.
/// </summary>
public abstract class ClusterTest : IAsyncLifetime
{
    /// <summary>The job the silo's grains serve: 2 workers, 1 restart allowed.</summary>
    public static readonly JobSpec Job = new() { Workers = 2, Elastic = new() { MaxRestarts = 1 } };

    protected TestCluster Cluster { get; } = new TestClusterBuilder(1).AddSiloBuilderConfigurator<JobOptions>().Build();

    protected IGrainFactory Grains => Cluster.GrainFactory;

    public Task InitializeAsync() => Cluster.DeployAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class JobOptions : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => silo.AddMemoryGrainStorageAsDefault().ConfigureServices(services =>
            services.AddSingleton(new CoordinatorOptions { JobId = "test", JobToken = "test-token", Job = Job }));
    }
}
