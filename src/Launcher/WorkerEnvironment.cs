namespace Dtrain.Launcher;

/// <summary>Environment variables a worker reads.</summary>
public static class WorkerEnvironment
{
    public const string JobToken = "DTRAIN_JOB_TOKEN";
}
