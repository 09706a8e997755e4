using k8s.Models;

namespace Dtrain.Deploy;

/// <summary>The Redis server that holds the silos' membership and the grains' state when the job has more than one coordinator.</summary>
internal static class RedisManifests
{
    public const string Image = "redis:7";

    public static IEnumerable<object> Build(JobNames names)
    {
        var labels = names.Selector(JobNames.RedisComponent);
        yield return new V1Service
        {
            ApiVersion = "v1", Kind = "Service",
            Metadata = PodParts.Metadata(names, names.Redis, JobNames.RedisComponent),
            Spec = new V1ServiceSpec { Selector = labels, Ports = [PodParts.ServicePort("redis", JobNames.RedisPort)] },
        };
        yield return new V1Deployment
        {
            ApiVersion = "apps/v1", Kind = "Deployment",
            Metadata = PodParts.Metadata(names, names.Redis, JobNames.RedisComponent),
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "redis",
                                Image = Image,
                                Ports = [PodParts.Port("redis", JobNames.RedisPort)],
                                ReadinessProbe = PodParts.TcpProbe("redis"),
                                LivenessProbe = PodParts.TcpProbe("redis"),
                            },
                        ],
                    },
                },
            },
        };
    }
}
