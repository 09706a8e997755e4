using System.CommandLine;
using Dtrain.Contracts.Jobs;
using Dtrain.Deploy;
using Dtrain.Launcher.Jobs;
using Dtrain.Launcher.Options;

namespace Dtrain.Launcher.Commands;

/// <summary>`dtrain k8s render`: a job's Kubernetes manifests, one YAML file per object.</summary>
public static class K8sCommand
{
    public static Command Create() => new("k8s", "Run jobs on Kubernetes") { Render() };

    private static Command Render()
    {
        var jobFile = new Argument<FileInfo>("job-file") { Description = "the YAML job file (as for `dtrain run`); the coordinator reads it from a ConfigMap" };
        var output = new Option<string>("--out") { Description = "directory to write the manifests to, one file per object (created if missing; the manifests of an earlier rendering there are replaced)", Required = true };
        var jobId = new Option<string?>("--job-id") { Description = "the job's id and the prefix of every object's name [default: the job file's name]" };
        var image = new Option<string>("--image") { Description = "image of the coordinator and the workers (deploy/docker/Dockerfile)", DefaultValueFactory = _ => JobDeployment.DefaultImage };
        var workers = new Option<int?>("--workers", "-n") { Description = "worker pods (ranks) [default: the job file's workers]" };
        var gpus = new Option<int>("--gpus-per-worker") { Description = "nvidia.com/gpu each worker requests: 0 or 1" };
        var ns = new Option<string>("--namespace") { Description = "the job's namespace", DefaultValueFactory = _ => JobDeployment.DefaultNamespace };
        var coordinators = new Option<int>("--coordinators")
        {
            Description = "coordinator silos; more than one keeps the job's state in a Redis the manifests deploy too",
            DefaultValueFactory = _ => 1,
        };
        var volumeSize = new Option<string>("--volume-size")
        {
            Description = "storage the job's PersistentVolumeClaim requests for its checkpoint and graph directories (ReadWriteMany)",
            DefaultValueFactory = _ => JobDeployment.DefaultVolumeSize,
        };
        var storageClass = new Option<string?>("--storage-class") { Description = "storage class of the job's volume claim; it must offer ReadWriteMany [default: the cluster's]" };
        var placeholder = new Option<bool>("--placeholder-secret")
        {
            Description = $"put marked placeholders in the job's Secret, for manifests kept in version control [default: ${JobEnvironment.JobSecret}, else a fresh secret]",
        };

        var command = new Command("render",
            "Write a job's manifests: namespace, ConfigMap with the job file, Secret, PersistentVolumeClaim for the checkpoint and graph directories, coordinator StatefulSet and Service with their RBAC, " +
            "Redis (more than one coordinator), workers as an Indexed Job with a headless Service, and a Prometheus ServiceMonitor")
        {
            jobFile, output, jobId, image, workers, gpus, ns, coordinators, volumeSize, storageClass, placeholder,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(jobFile)!;
            var job = JobOptions.FromFile(file);
            job = job with { Workers = parse.GetValue(workers) ?? job.Workers };
            JobOptions.Check(job, file, []);
            string id = parse.GetValue(jobId) ?? Path.GetFileNameWithoutExtension(file.Name);
            string? secret = parse.GetValue(placeholder) ? null : JobEnvironment.Value(JobEnvironment.JobSecret) ?? JobToken.Generate();
            var deployment = new JobDeployment
            {
                JobId = id,
                JobFile = File.ReadAllText(file.FullName),
                Job = job,
                Credentials = secret is null ? JobCredentials.Placeholder : JobCredentials.From(secret, id),
                Image = parse.GetValue(image)!,
                Namespace = parse.GetValue(ns)!,
                GpusPerWorker = parse.GetValue(gpus),
                Coordinators = parse.GetValue(coordinators),
                VolumeSize = parse.GetValue(volumeSize)!,
                StorageClass = parse.GetValue(storageClass),
            };
            if (deployment.Problems().ToList() is { Count: > 0 } problems)
            {
                throw new UsageException($"cannot render job {id}: {string.Join("; ", problems)}");
            }
            string directory = parse.GetValue(output)!;
            OutputPaths.Refuse(OutputPaths.DirectoryProblem("--out", directory));
            var paths = JobManifests.Write(JobManifests.Build(deployment), directory);
            Console.WriteLine($"wrote {paths.Count} manifests of job {id} to {directory}; apply them with: kubectl apply -f {directory}");
            Console.WriteLine(secret is null
                ? "the job's Secret holds placeholders: create the real one before applying (deploy/k8s/README.md)"
                : "the job's Secret holds the job secret: keep that file out of version control");
            return 0;
        });
        return command;
    }
}
