using k8s.Models;

namespace Dtrain.Deploy;

/// <summary>
/// The coordinator: a StatefulSet of silos behind one Service, and the RBAC that Orleans' Kubernetes hosting
/// needs to watch the silos' pods. With more than one silo the job's state lives in Redis (--cluster redis).
/// </summary>
internal static class CoordinatorManifests
{
    private const string JobFileVolume = "job-file";

    public static IEnumerable<object> Build(JobDeployment deployment, JobNames names)
    {
        var labels = names.Selector(JobNames.CoordinatorComponent);
        yield return new V1ServiceAccount
        {
            ApiVersion = "v1", Kind = "ServiceAccount",
            Metadata = PodParts.Metadata(names, names.Coordinator, JobNames.CoordinatorComponent),
        };
        yield return new V1Role
        {
            ApiVersion = "rbac.authorization.k8s.io/v1", Kind = "Role",
            Metadata = PodParts.Metadata(names, names.Coordinator, JobNames.CoordinatorComponent),
            Rules = [new V1PolicyRule { ApiGroups = [""], Resources = ["pods"], Verbs = ["get", "list", "watch", "delete", "patch"] }],
        };
        yield return new V1RoleBinding
        {
            ApiVersion = "rbac.authorization.k8s.io/v1", Kind = "RoleBinding",
            Metadata = PodParts.Metadata(names, names.Coordinator, JobNames.CoordinatorComponent),
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = names.Coordinator },
            Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = names.Coordinator, NamespaceProperty = names.Namespace }],
        };
        yield return new V1Service
        {
            ApiVersion = "v1", Kind = "Service",
            Metadata = PodParts.Metadata(names, names.Coordinator, JobNames.CoordinatorComponent),
            Spec = new V1ServiceSpec { Selector = labels, Ports = Ports(deployment, names).Select(p => PodParts.ServicePort(p.Name, p.ContainerPort)).ToList() },
        };
        yield return new V1StatefulSet
        {
            ApiVersion = "apps/v1", Kind = "StatefulSet",
            Metadata = PodParts.Metadata(names, names.Coordinator, JobNames.CoordinatorComponent),
            Spec = new V1StatefulSetSpec
            {
                ServiceName = names.Coordinator,
                Replicas = deployment.Coordinators,
                PodManagementPolicy = "Parallel",
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec { Metadata = PodMetadata(names, labels), Spec = Pod(deployment, names) },
            },
        };
    }

    /// <summary>The selector's labels, and the two Orleans' Kubernetes hosting reads its ServiceId and ClusterId from.</summary>
    private static V1ObjectMeta PodMetadata(JobNames names, Dictionary<string, string> labels)
    {
        var metadata = PodParts.ScrapedPod(new Dictionary<string, string>(labels), names.MetricsPort);
        metadata.Labels["orleans/serviceId"] = JobNames.OrleansServiceId;
        metadata.Labels["orleans/clusterId"] = names.JobId;
        return metadata;
    }

    private static V1PodSpec Pod(JobDeployment deployment, JobNames names) => new()
    {
        ServiceAccountName = names.Coordinator,
        Containers =
        [
            new V1Container
            {
                Name = "coordinator",
                Image = deployment.Image,
                Args = Arguments(deployment, names),
                Env =
                [
                    PodParts.FromSecret(JobNames.SecretKey, names.Secret, JobNames.SecretKey),
                    PodParts.FromField("POD_NAME", "metadata.name"),
                    PodParts.FromField("POD_NAMESPACE", "metadata.namespace"),
                    PodParts.FromField("POD_IP", "status.podIP"),
                    PodParts.FromField("ORLEANS_SERVICE_ID", "metadata.labels['orleans/serviceId']"),
                    PodParts.FromField("ORLEANS_CLUSTER_ID", "metadata.labels['orleans/clusterId']"),
                ],
                Ports = Ports(deployment, names),
                ReadinessProbe = PodParts.TcpProbe("grpc"),
                LivenessProbe = PodParts.MetricsProbe("metrics", periodSeconds: 10, failureThreshold: 6),
                Resources = new V1ResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("500m"), ["memory"] = new("512Mi") },
                },
                VolumeMounts =
                [
                    new V1VolumeMount { Name = JobFileVolume, MountPath = JobNames.JobFileDirectory, ReadOnlyProperty = true },
                    .. JobVolumes.Mounts(deployment),
                ],
            },
        ],
        Volumes =
        [
            new V1Volume { Name = JobFileVolume, ConfigMap = new V1ConfigMapVolumeSource { Name = names.JobFile } },
            .. JobVolumes.Volumes(deployment, names),
        ],
    };

    /// <summary>
    /// `dtrain coordinator` on the job file, with the rendered number of workers, listening on the pod's addresses, and
    /// lingering after the job so that Prometheus scrapes its final state.
    /// </summary>
    private const int LingerSeconds = 30;

    private static List<string> Arguments(JobDeployment deployment, JobNames names)
    {
        List<string> arguments =
        [
            "coordinator", $"{JobNames.JobFileDirectory}/{JobNames.JobFileKey}", "--job-id", names.JobId,
            "--workers", deployment.Job.Workers.ToString(), "--listen", "0.0.0.0", "--linger", LingerSeconds.ToString(),
        ];
        if (deployment.Coordinators > 1) arguments.AddRange(["--cluster", "redis", "--redis", names.RedisAddress]);
        return arguments;
    }

    /// <summary>gRPC and /metrics; with Redis clustering also the Orleans silo and gateway ports.</summary>
    private static List<V1ContainerPort> Ports(JobDeployment deployment, JobNames names)
    {
        List<V1ContainerPort> ports = [PodParts.Port("grpc", names.GrpcPort), PodParts.Port("metrics", names.MetricsPort)];
        if (deployment.Coordinators > 1) ports.AddRange([PodParts.Port("silo", names.SiloPort), PodParts.Port("gateway", names.GatewayPort)]);
        return ports;
    }
}
