using Dtrain.Contracts.Jobs;
using Dtrain.Deploy;
using Dtrain.Launcher;
using k8s;
using k8s.Models;
using YamlDotNet.Core;

namespace Dtrain.Tests.Deploy;

/// <summary>
/// The manifests of `dtrain k8s render`, read back by the strict typed deserializer: complete, consistent with
/// each other (Services and the pods they select, Secrets and ConfigMaps and their users), and right for the job.
/// </summary>
public class ManifestTests
{
    private const string JobFileText = "workers: 3\nsteps: 100\ndevice: auto\nport: 31000\n";

    private static JobDeployment Deployment(int workers = 3, int gpus = 0, int coordinators = 1) => new()
    {
        JobId = "mnist",
        JobFile = JobFileText,
        Job = new JobSpec { Workers = workers, Steps = 100, Device = DeviceKind.Auto, Port = 31000, Elastic = new() { MaxRestarts = 2 } },
        Credentials = JobCredentials.From("the-secret", "mnist"),
        Namespace = "training",
        Image = "registry.example/dtrain:0.1.0",
        GpusPerWorker = gpus,
        Coordinators = coordinators,
    };

    [Theory]
    [InlineData(1, "Namespace ConfigMap Secret ServiceAccount Role RoleBinding Service StatefulSet Service Job ServiceMonitor")]
    [InlineData(3, "Namespace ConfigMap Secret Service Deployment ServiceAccount Role RoleBinding Service StatefulSet Service Job ServiceMonitor")]
    public void Every_object_is_there_in_apply_order_with_a_name_in_the_job_namespace(int coordinators, string kinds)
    {
        var rendered = RenderedManifests.Render(Deployment(coordinators: coordinators));

        Assert.Equal(kinds, string.Join(' ', rendered.Objects.Select(KindAndMetadata).Select(o => o.Kind)));
        foreach (var (kind, metadata) in rendered.Objects.Select(KindAndMetadata))
        {
            Assert.False(string.IsNullOrEmpty(metadata.Name), $"a {kind} without a name");
            Assert.Equal(kind == "Namespace" ? null : "training", metadata.NamespaceProperty);
        }
        Assert.Equal("training", rendered.All<V1Namespace>().Single().Metadata.Name);
    }

    private static (string Kind, V1ObjectMeta Metadata) KindAndMetadata(object manifest) => manifest switch
    {
        IKubernetesObject<V1ObjectMeta> typed => (typed.Kind, typed.Metadata),
        ServiceMonitor monitor => (monitor.Kind, monitor.Metadata),
        _ => throw new Xunit.Sdk.XunitException($"unexpected {manifest.GetType()}"),
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Every_Service_selects_one_workload_whose_pods_have_its_ports(int coordinators)
    {
        var rendered = RenderedManifests.Render(Deployment(coordinators: coordinators));

        var services = rendered.All<V1Service>().ToList();
        Assert.Equal(coordinators > 1 ? 3 : 2, services.Count);
        foreach (var service in services)
        {
            var (workload, template) = Assert.Single(rendered.Selected(service.Spec.Selector));
            var container = RenderedManifests.Container(template);
            foreach (var port in service.Spec.Ports)
            {
                var target = RenderedManifests.Port(container, port.TargetPort.Value);
                Assert.True(port.Port == target.ContainerPort, $"{service.Metadata.Name}:{port.Name} is {port.Port}, {workload} serves it on {target.ContainerPort}");
            }
        }
    }

    [Fact]
    public void Workload_selectors_match_their_own_pods_and_probes_name_their_ports()
    {
        var rendered = RenderedManifests.Render(Deployment(coordinators: 2));

        var selectors = rendered.All<V1StatefulSet>().Select(s => (s.Spec.Selector, s.Spec.Template))
            .Concat(rendered.All<V1Deployment>().Select(d => (d.Spec.Selector, d.Spec.Template)));
        foreach (var (selector, template) in selectors)
        {
            Assert.Contains(template, rendered.Selected(selector.MatchLabels).Select(s => s.Template));
        }
        foreach (var (workload, template) in rendered.PodTemplates())
        {
            var container = RenderedManifests.Container(template);
            Assert.NotNull(container.ReadinessProbe);
            Assert.NotNull(container.LivenessProbe);
            foreach (var probe in new[] { container.ReadinessProbe, container.LivenessProbe })
            {
                string port = (probe.HttpGet?.Port ?? probe.TcpSocket.Port).Value;
                Assert.True(container.Ports.Any(p => p.Name == port), $"{workload} probes port '{port}', which it does not have");
            }
        }
    }

    [Fact]
    public void Prometheus_finds_the_metrics_ports_by_annotation_and_by_ServiceMonitor()
    {
        var rendered = RenderedManifests.Render(Deployment());

        var scraped = rendered.PodTemplates().Where(p => p.Template.Metadata.Annotations?.TryGetValue("prometheus.io/scrape", out var scrape) == true && scrape == "true").ToList();
        Assert.Equal(["StatefulSet mnist-coordinator", "Job mnist-workers"], scraped.Select(p => p.Workload));
        foreach (var (_, template) in scraped)
        {
            var metrics = RenderedManifests.Port(RenderedManifests.Container(template), "metrics");
            Assert.Equal(metrics.ContainerPort.ToString(), template.Metadata.Annotations["prometheus.io/port"]);
            Assert.Equal("/metrics", template.Metadata.Annotations["prometheus.io/path"]);
        }
        Assert.Equal(31001, RenderedManifests.Port(RenderedManifests.Container(scraped[0].Template), "metrics").ContainerPort);

        var monitor = Assert.Single(rendered.All<ServiceMonitor>());
        var selected = rendered.All<V1Service>().Where(s => Selects(monitor.Spec.Selector, s.Metadata.Labels)).Select(s => s.Metadata.Name);
        Assert.Equal(["mnist-coordinator", "mnist-workers"], selected);
        Assert.Equal(["training"], monitor.Spec.NamespaceSelector!.MatchNames);
        var endpoint = Assert.Single(monitor.Spec.Endpoints);
        Assert.All(rendered.All<V1Service>().Where(s => Selects(monitor.Spec.Selector, s.Metadata.Labels)),
            service => Assert.Contains(service.Spec.Ports, p => p.Name == endpoint.Port));
    }

    private static bool Selects(V1LabelSelector selector, IDictionary<string, string> labels) =>
        selector.MatchLabels.All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value)
        && (selector.MatchExpressions ?? []).All(e => e.OperatorProperty == "In" && labels.TryGetValue(e.Key, out var v) && e.Values.Contains(v));

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Workers_are_an_Indexed_Job_of_one_pod_per_rank_reachable_through_the_headless_Service(int workers)
    {
        var rendered = RenderedManifests.Render(Deployment(workers: workers));

        var job = rendered.Single<V1Job>("mnist-workers");
        Assert.Equal("Indexed", job.Spec.CompletionMode);
        Assert.Equal(workers, job.Spec.Completions);
        Assert.Equal(workers, job.Spec.Parallelism);
        Assert.Equal(2, job.Spec.BackoffLimit);
        var headless = rendered.Single<V1Service>(job.Spec.Template.Spec.Subdomain);
        Assert.Equal("None", headless.Spec.ClusterIP);
        Assert.Contains(job.Spec.Template, rendered.Selected(headless.Spec.Selector).Select(s => s.Template));
        var coordinator = rendered.Single<V1StatefulSet>("mnist-coordinator");
        Assert.Contains(["--workers", workers.ToString()], Pairs(RenderedManifests.Container(coordinator.Spec.Template).Args));
    }

    [Fact]
    public void A_worker_pod_resolves_its_rank_world_size_and_coordinator_through_the_launch_contract()
    {
        var rendered = RenderedManifests.Render(Deployment(workers: 4));
        var pod = rendered.Single<V1Job>("mnist-workers").Spec.Template;
        var container = RenderedManifests.Container(pod);

        // What the kubelet gives the container of the pod with completion index 2.
        var annotations = new Dictionary<string, string> { ["batch.kubernetes.io/job-completion-index"] = "2" };
        var environment = container.Env.Where(e => e.ValueFrom?.SecretKeyRef is null).ToDictionary(e => e.Name, e => e.Value
            ?? annotations[e.ValueFrom.FieldRef.FieldPath.Replace("metadata.annotations['", "").TrimEnd('\'', ']')]);
        var launched = LaunchContract.Resolve((null, null, null), environment, "http");

        Assert.Equal((2, 4), (launched.Rank, launched.WorldSize));
        var address = new Uri(launched.Coordinator);
        var coordinatorService = rendered.Single<V1Service>(address.Host);
        Assert.Equal(address.Port, Assert.Single(coordinatorService.Spec.Ports, p => p.Name == "grpc").Port);
        Assert.Equal("mnist", environment["DTRAIN_JOB_ID"]);
        // Peers reach the worker by its name in the headless Service: HOSTNAME.SUBDOMAIN.NAMESPACE.svc.
        string advertised = Pairs(container.Args).Single(p => p[0] == "--advertise")[1].Replace("$(JOB_COMPLETION_INDEX)", "2");
        Assert.Equal($"{rendered.Single<V1Job>("mnist-workers").Metadata.Name}-2.{pod.Spec.Subdomain}.training.svc", advertised);
    }

    private static IEnumerable<string[]> Pairs(IList<string> arguments) => arguments.Zip(arguments.Skip(1), (a, b) => new[] { a, b });

    [Fact]
    public void The_Secret_gives_the_coordinator_the_secret_and_the_workers_only_the_token()
    {
        var rendered = RenderedManifests.Render(Deployment());

        var secret = rendered.Single<V1Secret>("mnist-secret");
        Assert.Equal(JobToken.Derive("the-secret", "mnist"), secret.StringData["DTRAIN_JOB_TOKEN"]);
        Assert.Equal("the-secret", secret.StringData["DTRAIN_JOB_SECRET"]);
        var coordinator = RenderedManifests.Container(rendered.Single<V1StatefulSet>("mnist-coordinator").Spec.Template);
        var worker = RenderedManifests.Container(rendered.Single<V1Job>("mnist-workers").Spec.Template);
        Assert.Equal(["DTRAIN_JOB_SECRET"], SecretKeys(coordinator, secret));
        Assert.Equal(["DTRAIN_JOB_TOKEN"], SecretKeys(worker, secret));
    }

    /// <summary>The keys of <paramref name="secret"/> the container's variables read, each checked to exist.</summary>
    private static IEnumerable<string> SecretKeys(V1Container container, V1Secret secret) =>
        container.Env.Where(e => e.ValueFrom?.SecretKeyRef is not null).Select(e =>
        {
            Assert.Equal(secret.Metadata.Name, e.ValueFrom.SecretKeyRef.Name);
            Assert.True(secret.StringData.ContainsKey(e.ValueFrom.SecretKeyRef.Key), $"the Secret has no key {e.ValueFrom.SecretKeyRef.Key}");
            return e.Name;
        }).ToList();

    [Fact]
    public void The_coordinator_reads_the_job_file_from_the_ConfigMap_and_runs_with_the_Orleans_hosting_contract()
    {
        var rendered = RenderedManifests.Render(Deployment());
        var pod = rendered.Single<V1StatefulSet>("mnist-coordinator").Spec.Template;
        var container = RenderedManifests.Container(pod);

        var volume = Assert.Single(pod.Spec.Volumes);
        var configMap = rendered.Single<V1ConfigMap>(volume.ConfigMap.Name);
        var mount = Assert.Single(container.VolumeMounts);
        Assert.Equal(volume.Name, mount.Name);
        var (file, content) = Assert.Single(configMap.Data);
        Assert.Equal(JobFileText, content);
        Assert.Equal(["coordinator", $"{mount.MountPath}/{file}"], container.Args.Take(2));
        Assert.Contains(["--listen", "0.0.0.0"], Pairs(container.Args));

        // Microsoft.Orleans.Hosting.Kubernetes: the pod's name, namespace and IP, and its ids from the pod's labels.
        var fields = container.Env.Where(e => e.ValueFrom?.FieldRef is not null).ToDictionary(e => e.Name, e => e.ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.name", fields["POD_NAME"]);
        Assert.Equal("metadata.namespace", fields["POD_NAMESPACE"]);
        Assert.Equal("status.podIP", fields["POD_IP"]);
        Assert.Equal("dtrain", pod.Metadata.Labels[Label(fields["ORLEANS_SERVICE_ID"])]);
        Assert.Equal("mnist", pod.Metadata.Labels[Label(fields["ORLEANS_CLUSTER_ID"])]);

        var account = rendered.Single<V1ServiceAccount>(pod.Spec.ServiceAccountName);
        var binding = rendered.Single<V1RoleBinding>(account.Metadata.Name);
        Assert.Equal(account.Metadata.Name, Assert.Single(binding.Subjects).Name);
        var rule = Assert.Single(rendered.Single<V1Role>(binding.RoleRef.Name).Rules);
        Assert.Equal(["pods"], rule.Resources);
        Assert.Superset(new HashSet<string> { "get", "list", "watch", "delete" }, rule.Verbs.ToHashSet());
    }

    private static string Label(string fieldPath) => fieldPath.Replace("metadata.labels['", "").TrimEnd('\'', ']');

    [Fact]
    public void More_than_one_coordinator_keeps_the_state_in_the_rendered_Redis_and_opens_the_silo_ports()
    {
        var single = RenderedManifests.Container(RenderedManifests.Render(Deployment()).Single<V1StatefulSet>("mnist-coordinator").Spec.Template);
        Assert.DoesNotContain("--cluster", single.Args);
        Assert.Equal(["grpc", "metrics"], single.Ports.Select(p => p.Name));

        var rendered = RenderedManifests.Render(Deployment(coordinators: 3));
        var statefulSet = rendered.Single<V1StatefulSet>("mnist-coordinator");
        Assert.Equal(3, statefulSet.Spec.Replicas);
        var container = RenderedManifests.Container(statefulSet.Spec.Template);
        Assert.Contains(["--cluster", "redis"], Pairs(container.Args));
        string[] redis = Pairs(container.Args).Single(p => p[0] == "--redis")[1].Split(':');
        var redisService = rendered.Single<V1Service>(redis[0]);
        Assert.Equal(int.Parse(redis[1]), Assert.Single(redisService.Spec.Ports).Port);
        Assert.Equal(["grpc", "metrics", "silo", "gateway"], container.Ports.Select(p => p.Name));
        Assert.Equal([31000, 31001, 31002, 31003], container.Ports.Select(p => p.ContainerPort));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Workers_request_a_GPU_when_asked(int gpus)
    {
        var resources = RenderedManifests.Container(RenderedManifests.Render(Deployment(gpus: gpus)).Single<V1Job>("mnist-workers").Spec.Template).Resources;

        string? limit = resources.Limits is { } limits && limits.TryGetValue("nvidia.com/gpu", out var quantity) ? quantity.ToString() : null;
        Assert.Equal(gpus > 0 ? "1" : null, limit);
        Assert.True(resources.Requests.ContainsKey("cpu") && resources.Requests.ContainsKey("memory"));
    }

    [Fact]
    public void Rendering_again_replaces_the_files_of_objects_the_job_no_longer_has_and_keeps_other_files()
    {
        var directory = Directory.CreateTempSubdirectory("dtrain-k8s-");
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "kustomization.yaml"), "resources: []\n");
            JobManifests.Write(JobManifests.Build(Deployment(coordinators: 2)), directory.FullName);
            JobManifests.Write(JobManifests.Build(Deployment(coordinators: 1)), directory.FullName);

            var files = Directory.GetFiles(directory.FullName).Select(Path.GetFileName).ToList();
            Assert.Equal(12, files.Count);
            Assert.Contains("kustomization.yaml", files);
            Assert.DoesNotContain(files, f => f!.Contains("redis"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_strict_reader_refuses_a_field_the_models_do_not_know()
    {
        var directory = Directory.CreateTempSubdirectory("dtrain-k8s-");
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "job.yaml"),
                "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: workers\nspec:\n  completionMode: Indexed\n  completion: 4\n");
            Assert.Contains("completion", Assert.ThrowsAny<YamlException>(() => RenderedManifests.Read(directory.FullName)).Message);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_checkpoint_and_graph_directories_are_one_ReadWriteMany_claim_mounted_in_every_pod_and_the_coordinator_lingers()
    {
        Assert.Empty(RenderedManifests.Render(Deployment()).All<V1PersistentVolumeClaim>());

        var job = new JobSpec
        {
            Workers = 2, Model = ModelKind.Graphsage, Port = 31000,
            Checkpoints = new() { Dir = "ck", Every = 50 },
            Graph = new() { Dir = "/data/papers" },
        };
        var rendered = RenderedManifests.Render(Deployment() with { Job = job, VolumeSize = "25Gi", StorageClass = "nfs-client" });

        var claim = Assert.Single(rendered.All<V1PersistentVolumeClaim>());
        Assert.Equal(["ReadWriteMany"], claim.Spec.AccessModes);
        Assert.Equal("25Gi", claim.Spec.Resources.Requests["storage"].ToString());
        Assert.Equal("nfs-client", claim.Spec.StorageClassName);
        var pods = new[] { rendered.Single<V1StatefulSet>("mnist-coordinator").Spec.Template, rendered.Single<V1Job>("mnist-workers").Spec.Template };
        foreach (var pod in pods)
        {
            var volume = Assert.Single(pod.Spec.Volumes, v => v.PersistentVolumeClaim is not null);
            Assert.Equal(claim.Metadata.Name, volume.PersistentVolumeClaim.ClaimName);
            var mounts = RenderedManifests.Container(pod).VolumeMounts.Where(m => m.Name == volume.Name).ToDictionary(m => m.MountPath, m => m.SubPath);
            // A relative directory is the image's working directory's.
            Assert.Equal(new Dictionary<string, string> { ["/home/dtrain/ck"] = "checkpoints", ["/data/papers"] = "graph" }, mounts);
        }
        Assert.Contains(["--linger", "30"], Pairs(RenderedManifests.Container(pods[0]).Args));
    }

    [Theory]
    [InlineData("job id 'MNIST_7' must be a DNS label of at most 40 characters: lower-case letters, digits and '-'", "MNIST_7", 0, DeviceKind.Auto, TransportKind.Grpc)]
    [InlineData("gpus per worker must be 0 or 1, got 2: a worker trains on one GPU (start more workers instead)", "mnist", 2, DeviceKind.Auto, TransportKind.Grpc)]
    [InlineData("the job's device is cpu, but its workers would request GPUs", "mnist", 1, DeviceKind.Cpu, TransportKind.Grpc)]
    [InlineData("the job's device is cuda, but its workers would request no GPU", "mnist", 0, DeviceKind.Cuda, TransportKind.Grpc)]
    [InlineData("the job's transport is mpi: on Kubernetes the workers all-reduce over grpc", "mnist", 0, DeviceKind.Auto, TransportKind.Mpi)]
    public void A_deployment_that_cannot_run_is_refused_with_the_reason(string expected, string jobId, int gpus, DeviceKind device, TransportKind transport)
    {
        var deployment = Deployment(gpus: gpus) with { JobId = jobId, Job = new JobSpec { Device = device, Transport = transport } };
        Assert.Equal([expected], deployment.Problems());
        Assert.Empty(Deployment().Problems());
    }

    [Theory]
    [InlineData("ten gigs", null, "volume size 'ten gigs' must be a Kubernetes quantity such as 10Gi")]
    [InlineData("0", null, "volume size '0' must be a Kubernetes quantity such as 10Gi")]
    [InlineData("10Gi", "Fast_SSD", "storage class 'Fast_SSD' must be a Kubernetes name: lower-case letters, digits and '-'")]
    public void A_bad_volume_is_refused_with_the_reason(string size, string? storageClass, string expected)
    {
        Assert.Equal([expected], (Deployment() with { VolumeSize = size, StorageClass = storageClass }).Problems());
    }
}
