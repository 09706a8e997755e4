using k8s.Models;

namespace Dtrain.Deploy;

/// <summary>
/// The workers: an Indexed Job whose completion index is the rank, and the headless Service that gives each worker
/// pod a DNS name its peers reach it at (ID-workers-INDEX.ID-workers).
/// </summary>
internal static class WorkerManifests
{
    public static IEnumerable<object> Build(JobDeployment deployment, JobNames names)
    {
        var labels = names.Selector(JobNames.WorkerComponent);
        yield return new V1Service
        {
            ApiVersion = "v1", Kind = "Service",
            Metadata = PodParts.Metadata(names, names.Workers, JobNames.WorkerComponent),
            Spec = new V1ServiceSpec
            {
                ClusterIP = "None",
                // Peers look each other up while they join, before any of them is ready.
                PublishNotReadyAddresses = true,
                Selector = labels,
                Ports = [PodParts.ServicePort("peer", JobNames.WorkerPeerPort), PodParts.ServicePort("metrics", JobNames.WorkerMetricsPort)],
            },
        };
        yield return new V1Job
        {
            ApiVersion = "batch/v1", Kind = "Job",
            Metadata = PodParts.Metadata(names, names.Workers, JobNames.WorkerComponent),
            Spec = new V1JobSpec
            {
                CompletionMode = "Indexed",
                Completions = deployment.Job.Workers,
                Parallelism = deployment.Job.Workers,
                // A failed worker pod is replaced (same index, so same rank) as often as the job may restart.
                BackoffLimit = deployment.Job.Elastic.MaxRestarts,
                Template = new V1PodTemplateSpec
                {
                    Metadata = PodParts.ScrapedPod(labels, JobNames.WorkerMetricsPort),
                    Spec = Pod(deployment, names),
                },
            },
        };
    }

    private static V1PodSpec Pod(JobDeployment deployment, JobNames names) => new()
    {
        Subdomain = names.Workers,
        RestartPolicy = "Never",
        Containers =
        [
            new V1Container
            {
                Name = "worker",
                Image = deployment.Image,
                Args =
                [
                    "worker", "--listen", "0.0.0.0",
                    // This pod's name in the headless Service; Kubernetes expands $(JOB_COMPLETION_INDEX) from Env below.
                    "--advertise", $"{names.Workers}-$(JOB_COMPLETION_INDEX).{names.Workers}.{names.Namespace}.svc",
                    "--peer-port", JobNames.WorkerPeerPort.ToString(), "--metrics-port", JobNames.WorkerMetricsPort.ToString(),
                    // The coordinator's pod may start later than the workers'.
                    "--connect-timeout", "300",
                ],
                Env =
                [
                    PodParts.FromField("JOB_COMPLETION_INDEX", "metadata.annotations['batch.kubernetes.io/job-completion-index']"),
                    PodParts.Value("DTRAIN_WORLD_SIZE", deployment.Job.Workers.ToString()),
                    PodParts.Value("DTRAIN_COORDINATOR", names.CoordinatorAddress),
                    PodParts.Value("DTRAIN_JOB_ID", names.JobId),
                    PodParts.FromSecret(JobNames.TokenKey, names.Secret, JobNames.TokenKey),
                ],
                Ports = [PodParts.Port("peer", JobNames.WorkerPeerPort), PodParts.Port("metrics", JobNames.WorkerMetricsPort)],
                ReadinessProbe = PodParts.MetricsProbe("metrics", periodSeconds: 5, failureThreshold: 3),
                LivenessProbe = PodParts.MetricsProbe("metrics", periodSeconds: 10, failureThreshold: 6),
                Resources = Resources(deployment.GpusPerWorker),
                VolumeMounts = JobVolumes.Mounts(deployment),
            },
        ],
        Volumes = JobVolumes.Volumes(deployment, names),
    };

    /// <summary>A CPU and memory request, and the GPUs as a limit (Kubernetes schedules extended resources by their limit).</summary>
    private static V1ResourceRequirements Resources(int gpus)
    {
        var resources = new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("1"), ["memory"] = new("2Gi") },
        };
        if (gpus > 0) resources.Limits = new Dictionary<string, ResourceQuantity> { ["nvidia.com/gpu"] = new(gpus.ToString()) };
        return resources;
    }
}
