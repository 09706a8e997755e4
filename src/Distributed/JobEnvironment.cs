using System.Globalization;
using System.Net;
using Dtrain.Contracts;
using Dtrain.Contracts.Network;

namespace Dtrain.Distributed;

/// <summary>The environment variables dtrain's processes read.</summary>
public static class JobEnvironment
{
    /// <summary>The job's token. It travels in the environment, not the command line, where `ps` would show it.</summary>
    public const string JobToken = "DTRAIN_JOB_TOKEN";

    /// <summary>The secret job tokens are derived from; only the launcher or coordinator and `dtrain token` read it.</summary>
    public const string JobSecret = "DTRAIN_JOB_SECRET";

    /// <summary>The job a worker means to join (the same as `dtrain worker --job-id`).</summary>
    public const string JobId = "DTRAIN_JOB_ID";

    /// <summary>The process id of the launcher that started this worker: the worker ends when that process is gone.</summary>
    public const string ParentProcess = "DTRAIN_PARENT_PID";

    /// <summary>The port this worker serves /metrics on (the same as `dtrain worker --metrics-port`); `dtrain run --worker-metrics-port` sets it.</summary>
    public const string MetricsPort = "DTRAIN_METRICS_PORT";

    /// <summary>Seconds a worker keeps retrying a coordinator that stopped answering (the same as `dtrain worker --coordinator-loss-timeout`).</summary>
    public const string CoordinatorLossSeconds = "DTRAIN_COORDINATOR_LOSS_TIMEOUT";

    /// <summary>Long enough for a coordinator restarted on Redis, or another of its cluster, to take the job over.</summary>
    public static readonly TimeSpan DefaultCoordinatorLossTimeout = TimeSpan.FromSeconds(30);

    /// <summary>PEM files: the certificate (and its key) a gRPC endpoint presents, and the CA its clients trust.</summary>
    public const string TlsCertificate = "DTRAIN_TLS_CERT", TlsKey = "DTRAIN_TLS_KEY", TlsAuthority = "DTRAIN_TLS_CA";

    public static string? Value(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    /// <summary>The launcher's process id from <see cref="ParentProcess"/>; null when unset.</summary>
    public static int? ParentProcessId() => Value(ParentProcess) switch
    {
        null => null,
        var text when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int parent) => parent,
        var text => throw new UsageException($"{ParentProcess}={text} is not a process id"),
    };

    /// <summary>The port from <see cref="MetricsPort"/>; 0 (a free one) when unset.</summary>
    public static int MetricsPortOrAny() => Value(MetricsPort) switch
    {
        null => 0,
        var text when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= IPEndPoint.MaxPort => port,
        var text => throw new UsageException($"{MetricsPort}={text} is not a port (0 to {IPEndPoint.MaxPort})"),
    };

    /// <summary>The bound from <see cref="CoordinatorLossSeconds"/>; <see cref="DefaultCoordinatorLossTimeout"/> when unset.</summary>
    public static TimeSpan CoordinatorLossTimeout() => Value(CoordinatorLossSeconds) switch
    {
        null => DefaultCoordinatorLossTimeout,
        var text when double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds)
            && Durations.Problem(CoordinatorLossSeconds, seconds) is null => TimeSpan.FromSeconds(seconds),
        var text => throw new UsageException($"{CoordinatorLossSeconds}={text} is not a number of seconds (more than 0, at most {Durations.MaxSeconds})"),
    };

    public static string RequireJobToken() => Value(JobToken) ?? throw new UsageException($"the job token is missing: set {JobToken}");

    public static string RequireJobSecret() => Value(JobSecret) ?? throw new UsageException($"the job secret is missing: set {JobSecret}");

    /// <summary>This process's TLS from the environment; none when the variables are unset. Worker processes inherit them.</summary>
    public static GrpcTls Tls()
    {
        try
        {
            return GrpcTls.Load(Value(TlsCertificate), Value(TlsKey), Value(TlsAuthority));
        }
        catch (DtrainException bad)
        {
            throw new UsageException($"{bad.Message} ({TlsCertificate}, {TlsKey}, {TlsAuthority})");
        }
    }

    /// <summary>
    /// `dtrain run`'s secret: the operator's, so that `dtrain token` derives the token `dtrain status` presents, else a
    /// fresh one. A token alone is refused rather than ignored: the run could not honour it.
    /// </summary>
    public static string RunSecret() =>
        Value(JobSecret) ?? (Value(JobToken) is null
            ? Contracts.Jobs.JobToken.Generate()
            : throw new UsageException($"dtrain run derives the job token from {JobSecret}: set that instead of {JobToken}"));
}
