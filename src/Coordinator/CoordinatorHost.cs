using Dtrain.Contracts.Checkpoints;
using Dtrain.Contracts.Hosting;
using Dtrain.Coordinator.Grains;
using Dtrain.Coordinator.Services;
using Dtrain.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Dtrain.Coordinator;

/// <summary>
/// The coordinator process's parts in one host: an Orleans silo (localhost clustering, in-memory state), the
/// gRPC endpoint workers call (HTTP/2 on Port, over TLS when given a certificate), and Prometheus /metrics (HTTP/1.1 on Port + 1).
/// </summary>
public sealed class CoordinatorHost : IAsyncDisposable
{
    private readonly WebApplication app;

    private CoordinatorHost(WebApplication app, CoordinatorOptions options)
    {
        this.app = app;
        Options = options;
    }

    public CoordinatorOptions Options { get; }

    public string Address => $"{Options.Tls.Scheme}://{Options.ListenAddress}:{Options.Job.Port}";

    public string MetricsAddress => $"http://{Options.ListenAddress}:{Options.Job.Port + 1}/metrics";

    public IGrainFactory Grains => app.Services.GetRequiredService<IGrainFactory>();

    /// <summary>What resuming found: the checkpoints passed over (corrupted or incomplete), and why.</summary>
    public IReadOnlyList<string> SkippedCheckpoints { get; private init; } = [];

    /// <summary>The newest checkpoint this run committed, or 0.</summary>
    public Task<long> LastCheckpointAsync() => Grains.GetGrain<ICheckpointCatalogGrain>(Options.JobId).GetLastCommittedAsync();

    public IJobGrain Job => Grains.GetGrain<IJobGrain>(Options.JobId);

    public static async Task<CoordinatorHost> StartAsync(CoordinatorOptions options, CancellationToken ct = default)
    {
        IReadOnlyList<string> skipped = [];
        if (options.Job.Resume)
        {
            // Decided once, here, so that every worker loads the same checkpoint.
            var latest = CheckpointStore.LatestValid(options.Job.CheckpointDir, out skipped);
            options = options with { Job = options.Job with { ResumeStep = latest?.Step ?? 0 } };
        }
        var builder = GrpcWebHost.CreateBuilder(options.ListenAddress, options.Job.Port, options.Job.Port + 1, options.Tls);
        // The silo warns at every start that server GC is off; a small control plane does not need it. Its
        // watchdog's first check after start can report a stall as long as the machine's uptime (seen here:
        // "has not completed for 02:14:04" in a process a second old), a false alarm on every run.
        builder.Logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Error);
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(siloPort: Ports.FindFree(), gatewayPort: Ports.FindFree())
            .AddMemoryGrainStorageAsDefault());
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(options);

        var app = builder.Build();
        app.MapGrpcService<CoordinatorService>();
        app.MapMetrics();
        await GrpcWebHost.StartAsync(app, "the coordinator (choose another --port)", ct);
        DtrainMetrics.PublishBuildInfo("coordinator");
        var host = new CoordinatorHost(app, options) { SkippedCheckpoints = skipped };
        await host.Grains.GetGrain<IRendezvousGrain>(options.JobId).OpenAsync(new RendezvousRules
        {
            MinWorkers = options.Job.MinimumWorkers,
            MaxWorkers = options.Job.Workers,
            LastCall = TimeSpan.FromSeconds(options.Job.LastCallSeconds),
            JoinTimeout = TimeSpan.FromSeconds(options.Job.JoinTimeoutSeconds),
        });
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
