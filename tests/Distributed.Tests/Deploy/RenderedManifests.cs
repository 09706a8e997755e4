using Dtrain.Deploy;
using k8s;
using k8s.Models;

namespace Dtrain.Tests.Deploy;

/// <summary>
/// A directory of manifests read back into KubernetesClient's typed models by the strict deserializer, which
/// refuses any field the models do not know; and the questions the tests ask of them.
/// </summary>
internal sealed class RenderedManifests(IReadOnlyList<object> objects)
{
    public IReadOnlyList<object> Objects { get; } = objects;

    public static RenderedManifests Read(string directory) => new(Directory.GetFiles(directory, "*.yaml").Order()
        .SelectMany(file => KubernetesYaml.LoadAllFromString(File.ReadAllText(file), JobManifests.ExtraKinds.ToDictionary(), strict: true))
        .ToList());

    /// <summary>Writes the deployment's manifests the way `dtrain k8s render` does, and reads them back.</summary>
    public static RenderedManifests Render(JobDeployment deployment)
    {
        var directory = Directory.CreateTempSubdirectory("dtrain-k8s-");
        try
        {
            JobManifests.Write(JobManifests.Build(deployment), directory.FullName);
            return Read(directory.FullName);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    public T Single<T>(string name) where T : IKubernetesObject<V1ObjectMeta> => Assert.Single(All<T>(), o => o.Metadata.Name == name);

    /// <summary>The pod templates of every workload, with the workload's kind and name.</summary>
    public IEnumerable<(string Workload, V1PodTemplateSpec Template)> PodTemplates() =>
        All<V1StatefulSet>().Select(s => ($"StatefulSet {s.Metadata.Name}", s.Spec.Template))
            .Concat(All<V1Job>().Select(j => ($"Job {j.Metadata.Name}", j.Spec.Template)))
            .Concat(All<V1Deployment>().Select(d => ($"Deployment {d.Metadata.Name}", d.Spec.Template)));

    /// <summary>The pod templates whose labels include every one of <paramref name="selector"/>.</summary>
    public IReadOnlyList<(string Workload, V1PodTemplateSpec Template)> Selected(IDictionary<string, string> selector) =>
        PodTemplates().Where(p => selector.All(label => p.Template.Metadata.Labels.TryGetValue(label.Key, out var value) && value == label.Value)).ToList();

    public static V1Container Container(V1PodTemplateSpec template) => Assert.Single(template.Spec.Containers);

    public static V1ContainerPort Port(V1Container container, string name) => Assert.Single(container.Ports, p => p.Name == name);
}
