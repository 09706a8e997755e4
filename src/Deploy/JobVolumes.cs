using k8s.Models;

namespace Dtrain.Deploy;

/// <summary>
/// The job's shared storage: one PersistentVolumeClaim (ReadWriteMany, since the coordinator and every worker reach the
/// same checkpoints and graph), mounted in each pod at the job's checkpoint directory and graph directory, each a
/// subdirectory of the volume. A relative directory in the job file is taken from the image's working directory.
/// </summary>
internal static class JobVolumes
{
    public const string WorkingDirectory = "/home/dtrain";

    private const string VolumeName = "job-data";

    /// <summary>The claim, or null when the job reads and writes no directory.</summary>
    public static V1PersistentVolumeClaim? Claim(JobDeployment deployment, JobNames names) => Mounts(deployment).Count == 0 ? null : new()
    {
        ApiVersion = "v1", Kind = "PersistentVolumeClaim",
        Metadata = PodParts.Metadata(names, names.Data, JobNames.WorkerComponent),
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = ["ReadWriteMany"],
            StorageClassName = deployment.StorageClass,
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(deployment.VolumeSize) } },
        },
    };

    /// <summary>The claim as a pod's volume; none when there is no claim.</summary>
    public static List<V1Volume> Volumes(JobDeployment deployment, JobNames names) => Mounts(deployment).Count == 0 ? [] :
        [new V1Volume { Name = VolumeName, PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = names.Data } }];

    /// <summary>Where each directory the job uses is mounted, as a subdirectory of the claim.</summary>
    public static List<V1VolumeMount> Mounts(JobDeployment deployment)
    {
        var job = deployment.Job;
        var mounts = new List<V1VolumeMount>();
        if (job.Checkpoints.Dir != "") mounts.Add(Mount(job.Checkpoints.Dir, "checkpoints"));
        if (job.Model == Contracts.Jobs.ModelKind.Graphsage && job.Graph.Dir != "") mounts.Add(Mount(job.Graph.Dir, "graph"));
        return mounts;
    }

    private static V1VolumeMount Mount(string directory, string subPath) => new()
    {
        Name = VolumeName,
        MountPath = Path.IsPathRooted(directory) ? directory : Path.GetFullPath(directory, WorkingDirectory),
        SubPath = subPath,
    };
}
