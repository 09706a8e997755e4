using Dtrain.Contracts;
using Dtrain.Coordinator.Checkpoints;
using Dtrain.Contracts.Network;
using Dtrain.Coordinator.Grains;
using Dtrain.Coordinator.Services;
using Dtrain.Hosting;
using Dtrain.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Hosting.Kubernetes;
using Prometheus;
using StackExchange.Redis;
using System.Net;

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

    /// <summary>Where this process reaches its own gRPC endpoint: <see cref="Address"/>, or loopback when it listens on every address.</summary>
    public string OwnAddress => IPAddress.Parse(Options.ListenAddress).Equals(IPAddress.Any)
        ? $"{Options.Tls.Scheme}://{IPAddress.Loopback}:{Options.Job.Port}"
        : Address;

    public string MetricsAddress => $"http://{Options.ListenAddress}:{Options.Job.Port + 1}/metrics";

    /// <summary>Where the Orleans dashboard is served, when <see cref="CoordinatorOptions.Dashboard"/> asks for it.</summary>
    public string DashboardAddress => $"http://{Options.ListenAddress}:{Options.Job.Port + 1}/dashboard";

    public IGrainFactory Grains => app.Services.GetRequiredService<IGrainFactory>();

    /// <summary>What resuming found: the checkpoints passed over (corrupted or incomplete), and why.</summary>
    public IReadOnlyList<string> SkippedCheckpoints { get; private init; } = [];

    /// <summary>What this coordinator found of its job in Redis when it took over from a predecessor; null for a new job.</summary>
    public string? TakenOver { get; private set; }

    private IJobGrain Job => Grains.GetGrain<IJobGrain>(Options.JobId);

    /// <summary>
    /// Ends the current epoch if the process is one of its workers: its launcher saw it exit while training. The
    /// next epoch forms, or the job fails when no restart is left.
    /// </summary>
    public Task ProcessExitedAsync(int processId, string reason) => Job.ProcessExitedAsync(processId, reason);

    /// <summary>Ends <paramref name="epoch"/>, which failed (a launcher lost a worker it cannot name: MPI's), unless it is over already.</summary>
    public Task EndEpochAsync(long epoch, string reason) => Job.EndEpochAsync(epoch, reason);

    /// <summary>The job has failed for good (its launcher gave up).</summary>
    public Task FailAsync(string reason) => Job.FailAsync(reason);

    public static async Task<CoordinatorHost> StartAsync(CoordinatorOptions options, CancellationToken ct = default)
    {
        // Decided once, here, so that every worker loads the same checkpoint.
        var start = ResumePoint.AtStart(options.JobId, options.Job);
        options = options with { Job = options.Job with { Checkpoints = options.Job.Checkpoints with { ResumeStep = start.Step } } };
        if (options.Redis is { } redis) await CheckRedisAsync(redis);
        var builder = GrpcWebHost.CreateBuilder(options.ListenAddress, options.Job.Port, options.Job.Port + 1, options.Tls, options.Connections, out _);
        // The silo warns at every start that server GC is off; a small control plane does not need it. A start that
        // fails (or is interrupted) reaches the caller as StartAsync's exception, told in one line; the silo would
        // also log it with a stack trace. Its watchdog's first check after start can report a stall as long as the
        // machine's uptime (seen here: "has not completed for 02:14:04" in a process a second old), a false alarm
        // on every run.
        builder.Logging.AddFilter("Orleans.Runtime.Silo", LogLevel.Critical);
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
        // A silo stopped soon after it started (a port in use) warns that its own timers were cancelled, and one
        // stopped as its job ends warns of each grain whose deactivation it cut short.
        builder.Logging.AddFilter("Orleans.Runtime.GrainTimer", LogLevel.Error);
        builder.Logging.AddFilter("Orleans.Grain", LogLevel.Error);
        // A coordinator taking over a job warns that it found its dead predecessor in the membership; it says so itself.
        builder.Logging.AddFilter("Orleans.Runtime.MembershipService", LogLevel.Error);
        builder.UseOrleans(silo =>
        {
            UseCluster(silo, options);
            if (options.Dashboard) silo.AddDashboard();
        });
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = CoordinatorService.MaxRequestBytes;
            grpc.Interceptors.Add<ClusterFaultInterceptor>();
        });
        builder.Services.AddSingleton(options);

        var app = builder.Build();
        MalformedMessages.RefuseOversized(app, CoordinatorService.MaxRequestBytes);
        app.MapGrpcService<CoordinatorService>();
        app.MapMetrics();
        if (options.Dashboard) app.MapOrleansDashboard("/dashboard");
        await GrpcWebHost.StartAsync(app, "the coordinator (choose another --port)", ct);
        DtrainMetrics.PublishBuildInfo("coordinator");
        DtrainMetrics.ExposeRejectionCounters("coordinator");
        var host = new CoordinatorHost(app, options) { SkippedCheckpoints = start.Skipped };
        var rendezvous = host.Grains.GetGrain<IRendezvousGrain>(options.JobId);
        await rendezvous.OpenAsync(new RendezvousRules
        {
            MinWorkers = options.Job.MinimumWorkers,
            MaxWorkers = options.Job.Workers,
            LastCall = TimeSpan.FromSeconds(options.Job.Elastic.LastCallSeconds),
            JoinTimeout = TimeSpan.FromSeconds(options.Job.Elastic.JoinTimeoutSeconds),
        });
        // A coordinator taking over a running job (its state in Redis) watches that job's workers again: a worker
        // that died while no coordinator ran is then found by its silence.
        var workers = await rendezvous.GetWorkerIdsAsync();
        foreach (string worker in workers) await host.Grains.GetGrain<IWorkerGrain>(worker).HeartbeatAsync();
        var status = await host.Job.GetStatusAsync();
        if (workers.Count > 0 || status.Epoch > 1 || status.Results.Count > 0)
        {
            host.TakenOver = $"took over job {options.JobId} in epoch {status.Epoch} ({workers.Count} workers joined, {status.Results.Count} finished)";
        }
        return host;
    }

    /// <summary>Fails in one line, before the silo starts, when the Redis server cannot be reached.</summary>
    private static async Task CheckRedisAsync(string redis)
    {
        try
        {
            await using var probe = await ConnectionMultiplexer.ConnectAsync(redis);
        }
        catch (Exception e) when (e is RedisConnectionException or ArgumentException)
        {
            throw new DtrainException($"cannot reach Redis at {redis}: {e.Message.Split(". ")[0]}");
        }
    }

    private static void UseCluster(ISiloBuilder silo, CoordinatorOptions options)
    {
        if (options.Redis is not { } redis)
        {
            silo.UseLocalhostClustering(siloPort: Ports.FindFree(), gatewayPort: Ports.FindFree()).AddMemoryGrainStorageAsDefault();
            return;
        }
        var configuration = ConfigurationOptions.Parse(redis);
        // One cluster per job. A restarted coordinator comes back on the same silo endpoint (ports after the
        // gRPC and metrics ones), so the membership marks its dead predecessor's entry as superseded at once.
        silo.Configure<ClusterOptions>(cluster => (cluster.ClusterId, cluster.ServiceId) = (options.JobId, "dtrain"))
            // A dead coordinator's grains are unreachable until the others declare it dead: after 2 missed probes of
            // 2 s (Orleans' defaults, 3 of 5 s, would take longer than a worker retries the coordinator).
            .Configure<ClusterMembershipOptions>(membership => (membership.ProbeTimeout, membership.NumMissedProbesLimit) = (TimeSpan.FromSeconds(2), 2))
            .ConfigureEndpoints(SiloAddress(options.ListenAddress), options.Job.Port + 2, options.Job.Port + 3)
            .UseRedisClustering(clustering => clustering.ConfigurationOptions = configuration)
            .AddRedisGrainStorageAsDefault(storage => storage.ConfigurationOptions = configuration);
        // In a pod (the rendered manifests give it its name, namespace and IP, and RBAC on pods), Orleans watches the
        // coordinators' pods, so a silo whose pod is deleted leaves the membership at once instead of after missed probes.
        if (InKubernetesPod) silo.UseKubernetesHosting();
    }

    private static bool InKubernetesPod =>
        Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST") is { Length: > 0 }
        && Environment.GetEnvironmentVariable(KubernetesHostingOptions.PodNamespaceEnvironmentVariable) is { Length: > 0 };

    /// <summary>The address other silos reach this one at: the listen address, or this host's when it listens on all.</summary>
    private static IPAddress SiloAddress(string listen) =>
        IPAddress.Parse(listen) is { } address && !address.Equals(IPAddress.Any)
            ? address
            : Dns.GetHostAddresses(Dns.GetHostName()).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
