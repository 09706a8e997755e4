using Dtrain.Contracts.Network;
using Dtrain.Contracts.Jobs;
using Dtrain.Hosting;

namespace Dtrain.Coordinator;

public sealed record CoordinatorOptions
{
    public required string JobId { get; init; }

    /// <summary>The secret every worker and peer must present.</summary>
    public required string JobToken { get; init; }

    public required JobSpec Job { get; init; }

    /// <summary>Address the gRPC and metrics endpoints listen on: loopback for a local run, 0.0.0.0 in a pod.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>
    /// The Redis server (a StackExchange.Redis configuration, such as "redis:6379") that holds the silo's
    /// membership and the grains' state, so that a restarted coordinator takes over the running job; null keeps
    /// both in this process (the embedded default).
    /// </summary>
    public string? Redis { get; init; }

    /// <summary>Serve the Orleans dashboard (grains, calls, silos) at /dashboard on the metrics port.</summary>
    public bool Dashboard { get; init; }

    /// <summary>The certificate the gRPC endpoint presents; none: cleartext.</summary>
    public GrpcTls Tls { get; init; } = GrpcTls.None;

    /// <summary>How long the gRPC and metrics endpoints keep a connection that carries no request.</summary>
    public ConnectionLimits Connections { get; init; } = ConnectionLimits.Default;
}
