namespace Dtrain.Launcher;

/// <summary>The environment variables dtrain's processes read.</summary>
public static class JobEnvironment
{
    /// <summary>The job's secret. It travels in the environment, not the command line, where `ps` would show it.</summary>
    public const string JobToken = "DTRAIN_JOB_TOKEN";

    public static string RequireJobToken() =>
        Environment.GetEnvironmentVariable(JobToken) is { Length: > 0 } token
            ? token
            : throw new UsageException($"the job token is missing: set {JobToken}");
}
