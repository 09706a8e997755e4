using System.Text.RegularExpressions;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using k8s.Models;

namespace Dtrain.Deploy;

/// <summary>
/// One job as Kubernetes runs it: its coordinator(s) and its workers, in one namespace, from one container image.
/// </summary>
public sealed partial record JobDeployment
{
    /// <summary>The job's id: the prefix of every object's name, and the id its token is derived from.</summary>
    public required string JobId { get; init; }

    /// <summary>The job file as the user wrote it; the coordinator reads it from a ConfigMap.</summary>
    public required string JobFile { get; init; }

    /// <summary>The job the file describes, with the render command's overrides (workers).</summary>
    public required JobSpec Job { get; init; }

    public required JobCredentials Credentials { get; init; }

    public const string DefaultNamespace = "dtrain", DefaultImage = "dtrain:latest";

    public string Namespace { get; init; } = DefaultNamespace;

    /// <summary>The image of both the coordinator and the workers (entrypoint `dtrain`).</summary>
    public string Image { get; init; } = DefaultImage;

    /// <summary>GPUs each worker requests: 0 or 1, since a worker trains on one device.</summary>
    public int GpusPerWorker { get; init; }

    /// <summary>Coordinator silos; more than one keeps the job's state in Redis, which is then deployed too.</summary>
    public int Coordinators { get; init; } = 1;

    public const string DefaultVolumeSize = "10Gi";

    /// <summary>The storage the job's volume claim requests (a Kubernetes quantity), for its checkpoints and graph.</summary>
    public string VolumeSize { get; init; } = DefaultVolumeSize;

    /// <summary>The claim's storage class, which must offer ReadWriteMany volumes; null: the cluster's default.</summary>
    public string? StorageClass { get; init; }

    /// <summary>What is wrong with this deployment, one message per problem; empty when it can be rendered.</summary>
    public IEnumerable<string> Problems()
    {
        // The longest name built on the job id, the worker pods' host names "ID-workers-INDEX", must stay a DNS label.
        if (!JobIds.IsDnsLabel(JobId, maxLength: 40))
        {
            yield return $"job id {OneLine.Quoted(JobId)} must be a DNS label of at most 40 characters: lower-case letters, digits and '-'";
        }
        if (!JobIds.IsDnsLabel(Namespace))
        {
            yield return $"namespace {OneLine.Quoted(Namespace)} must be a DNS label: lower-case letters, digits and '-'";
        }
        if (string.IsNullOrWhiteSpace(Image)) yield return "the image must not be empty";
        if (Coordinators < 1) yield return $"coordinators must be at least 1, got {Coordinators}";
        if (!IsQuantity(VolumeSize)) yield return $"volume size {OneLine.Quoted(VolumeSize)} must be a Kubernetes quantity such as 10Gi";
        if (StorageClass is { } storageClass && !JobIds.IsDnsLabel(storageClass, maxLength: 253))
        {
            yield return $"storage class {OneLine.Quoted(storageClass)} must be a Kubernetes name: lower-case letters, digits and '-'";
        }
        if (GpusPerWorker is < 0 or > 1)
        {
            yield return $"gpus per worker must be 0 or 1, got {GpusPerWorker}: a worker trains on one GPU (start more workers instead)";
        }
        if (Job.Transport == TransportKind.Mpi) yield return "the job's transport is mpi: on Kubernetes the workers all-reduce over grpc";
        if (GpusPerWorker > 0 && Job.Device == DeviceKind.Cpu) yield return "the job's device is cpu, but its workers would request GPUs";
        if (GpusPerWorker == 0 && Job.Device == DeviceKind.Cuda) yield return "the job's device is cuda, but its workers would request no GPU";
    }

    private static bool IsQuantity(string text)
    {
        try
        {
            return text.Length > 0 && new ResourceQuantity(text).ToDecimal() > 0;
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            return false;
        }
    }
}

/// <summary>
/// What the job's Secret holds: the secret the coordinator derives the token from, and the token the workers present.
/// </summary>
public sealed record JobCredentials(string Secret, string Token)
{
    /// <summary>Marked values for manifests kept in version control; the README says how to create the real Secret.</summary>
    public static readonly JobCredentials Placeholder = new("REPLACE-with-a-long-random-secret", "REPLACE-with-dtrain-token-for-this-job-id");

    public static JobCredentials From(string secret, string jobId) => new(secret, JobToken.Derive(secret, jobId));
}
