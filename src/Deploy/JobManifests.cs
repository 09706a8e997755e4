using k8s;
using k8s.Models;

namespace Dtrain.Deploy;

/// <summary>
/// Every Kubernetes object of one job, in the order `kubectl apply` needs them (the namespace first), and their
/// files: one YAML file per object, numbered in that order.
/// </summary>
public static class JobManifests
{
    /// <summary>What KubernetesYaml needs, besides its own models, to read the objects back.</summary>
    public static readonly IReadOnlyDictionary<string, Type> ExtraKinds = new Dictionary<string, Type>
    {
        [$"{ServiceMonitor.ApiGroupVersion}/{nameof(ServiceMonitor)}"] = typeof(ServiceMonitor),
    };

    public static IReadOnlyList<object> Build(JobDeployment deployment)
    {
        var names = new JobNames(deployment);
        return
        [
            new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = names.Namespace } },
            new V1ConfigMap
            {
                ApiVersion = "v1", Kind = "ConfigMap",
                Metadata = PodParts.Metadata(names, names.JobFile, JobNames.CoordinatorComponent),
                Data = new Dictionary<string, string> { [JobNames.JobFileKey] = deployment.JobFile },
            },
            new V1Secret
            {
                ApiVersion = "v1", Kind = "Secret", Type = "Opaque",
                Metadata = PodParts.Metadata(names, names.Secret, JobNames.CoordinatorComponent),
                StringData = new Dictionary<string, string>
                {
                    [JobNames.SecretKey] = deployment.Credentials.Secret,
                    [JobNames.TokenKey] = deployment.Credentials.Token,
                },
            },
            .. JobVolumes.Claim(deployment, names) is { } claim ? [claim] : Array.Empty<object>(),
            .. deployment.Coordinators > 1 ? RedisManifests.Build(names) : [],
            .. CoordinatorManifests.Build(deployment, names),
            .. WorkerManifests.Build(deployment, names),
            Monitor(names),
        ];
    }

    /// <summary>Scrapes the port named metrics of the job's coordinator and worker Services.</summary>
    private static ServiceMonitor Monitor(JobNames names) => new()
    {
        Metadata = new V1ObjectMeta { Name = names.JobId, NamespaceProperty = names.Namespace, Labels = names.JobLabels() },
        Spec = new ServiceMonitorSpec
        {
            Selector = new V1LabelSelector
            {
                MatchLabels = names.JobLabels(),
                MatchExpressions =
                [
                    new V1LabelSelectorRequirement
                    {
                        Key = JobNames.ComponentLabel, OperatorProperty = "In", Values = [JobNames.CoordinatorComponent, JobNames.WorkerComponent],
                    },
                ],
            },
            NamespaceSelector = new NamespaceSelector { MatchNames = [names.Namespace] },
            Endpoints = [new MonitorEndpoint { Port = "metrics" }],
        },
    };

    /// <summary>
    /// Writes each object to DIRECTORY/NN-kind-name.yaml and returns the paths. Files of an earlier rendering
    /// (NN-*.yaml) are removed first, so that an object the job no longer has does not linger.
    /// </summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<object> objects, string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (string stale in Directory.EnumerateFiles(directory, "??-*.yaml").Where(f => char.IsAsciiDigit(Path.GetFileName(f)[0])))
        {
            File.Delete(stale);
        }
        var paths = new List<string>();
        for (int i = 0; i < objects.Count; i++)
        {
            var (kind, name) = KindAndName(objects[i]);
            string path = Path.Combine(directory, $"{i:00}-{kind.ToLowerInvariant()}-{name}.yaml");
            File.WriteAllText(path, KubernetesYaml.Serialize(objects[i]) + "\n");
            paths.Add(path);
        }
        return paths;
    }

    private static (string Kind, string Name) KindAndName(object manifest) => manifest switch
    {
        IKubernetesObject<V1ObjectMeta> typed => (typed.Kind, typed.Metadata.Name),
        ServiceMonitor monitor => (monitor.Kind, monitor.Metadata.Name),
        _ => throw new ArgumentException($"not a Kubernetes object: {manifest.GetType().Name}", nameof(manifest)),
    };
}
