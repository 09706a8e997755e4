namespace Dtrain.Deploy;

/// <summary>The names, labels and ports of one job's Kubernetes objects, so that every object refers to the others alike.</summary>
internal sealed class JobNames(JobDeployment deployment)
{
    public const string CoordinatorComponent = "coordinator", WorkerComponent = "worker", RedisComponent = "redis";

    /// <summary>Where the coordinator finds the job file from the ConfigMap.</summary>
    public const string JobFileDirectory = "/etc/dtrain", JobFileKey = "job.yaml";

    /// <summary>The Secret's keys, named as the variables they become.</summary>
    public const string SecretKey = "DTRAIN_JOB_SECRET", TokenKey = "DTRAIN_JOB_TOKEN";

    /// <summary>Fixed ports of a worker pod: the peer (collectives and graph sampling) endpoint and /metrics.</summary>
    public const int WorkerPeerPort = 29600, WorkerMetricsPort = 29601;

    public const int RedisPort = 6379;

    /// <summary>The Orleans ServiceId every dtrain coordinator uses; the ClusterId is the job id.</summary>
    public const string OrleansServiceId = "dtrain";

    public string JobId => deployment.JobId;

    public string Namespace => deployment.Namespace;

    public string Coordinator => $"{JobId}-coordinator";

    public string Workers => $"{JobId}-workers";

    public string Redis => $"{JobId}-redis";

    public string JobFile => $"{JobId}-job";

    public string Secret => $"{JobId}-secret";

    /// <summary>The PersistentVolumeClaim of the job's checkpoints and graph.</summary>
    public string Data => $"{JobId}-data";

    public int GrpcPort => deployment.Job.Port;

    public int MetricsPort => deployment.Job.Port + 1;

    /// <summary>The Orleans silo and gateway ports of --cluster redis: the two after the metrics port.</summary>
    public int SiloPort => deployment.Job.Port + 2;

    public int GatewayPort => deployment.Job.Port + 3;

    public string CoordinatorAddress => $"http://{Coordinator}:{GrpcPort}";

    public string RedisAddress => $"{Redis}:{RedisPort}";

    public const string ComponentLabel = "app.kubernetes.io/component";

    /// <summary>The labels every object of this job carries.</summary>
    public Dictionary<string, string> JobLabels() => new()
    {
        ["app.kubernetes.io/name"] = "dtrain",
        ["app.kubernetes.io/instance"] = JobId,
    };

    /// <summary>The labels that select a component's pods.</summary>
    public Dictionary<string, string> Selector(string component) => new(JobLabels()) { [ComponentLabel] = component };
}
