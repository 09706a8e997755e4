using Dtrain.Contracts.Network;

namespace Dtrain.Distributed;

public sealed record WorkerOptions
{
    /// <summary>The coordinator's gRPC address, e.g. http://127.0.0.1:29500.</summary>
    public required string Coordinator { get; init; }

    public required string JobToken { get; init; }

    /// <summary>The rank its launcher gave this worker (torchrun, an Indexed Job, mpiexec); null: the rendezvous assigns one.</summary>
    public int? Rank { get; init; }

    /// <summary>The number of workers its launcher started; null: whatever the coordinator's job says.</summary>
    public int? WorldSize { get; init; }

    /// <summary>The job this worker means to join; empty: whichever job the coordinator runs.</summary>
    public string JobId { get; init; } = "";

    /// <summary>Address the worker's endpoints listen on: loopback for a local run, 0.0.0.0 in a pod.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>The certificate of the peer endpoint and the CA trusted in the coordinator's and the peers'.</summary>
    public GrpcTls Tls { get; init; } = GrpcTls.None;

    /// <summary>Host name or IP peers use to reach this worker.</summary>
    public string AdvertiseHost { get; init; } = "127.0.0.1";

    /// <summary>Port of the peer (collectives) endpoint; 0 picks a free one.</summary>
    public int PeerPort { get; init; }

    /// <summary>Port of this worker's /metrics; 0 picks a free one.</summary>
    public int MetricsPort { get; init; }

    /// <summary>How long to keep trying to reach the coordinator before its first answer (it may start later than the worker).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a coordinator that answered before may go without answering until the worker gives up on it
    /// (<see cref="CoordinatorLostException"/>): long enough for another coordinator to take the job over from Redis.
    /// </summary>
    public TimeSpan CoordinatorLossTimeout { get; init; } = JobEnvironment.DefaultCoordinatorLossTimeout;

    /// <summary>How long to wait for the other workers to join.</summary>
    public TimeSpan RendezvousTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The launcher's process id: the worker exits if that process is gone, so it never outlives it.</summary>
    public int? ParentProcessId { get; init; }

    /// <summary>
    /// A worker as its launcher described it in the environment (<see cref="LaunchContract"/>): the coordinator's
    /// address, rank and world size, and <see cref="JobEnvironment"/>'s job token, job id, TLS files, metrics port,
    /// coordinator loss timeout and launcher.
    /// </summary>
    /// <exception cref="Contracts.UsageException">A variable is missing or malformed.</exception>
    public static WorkerOptions FromEnvironment()
    {
        var tls = JobEnvironment.Tls();
        var launched = LaunchContract.Resolve((null, null, null), ProcessEnvironment.Variables(), tls.Scheme);
        return new WorkerOptions
        {
            Coordinator = launched.Coordinator,
            Rank = launched.Rank,
            WorldSize = launched.WorldSize,
            JobToken = JobEnvironment.RequireJobToken(),
            JobId = JobEnvironment.Value(JobEnvironment.JobId) ?? "",
            Tls = tls,
            MetricsPort = JobEnvironment.MetricsPortOrAny(),
            CoordinatorLossTimeout = JobEnvironment.CoordinatorLossTimeout(),
            ParentProcessId = JobEnvironment.ParentProcessId(),
        };
    }
}
