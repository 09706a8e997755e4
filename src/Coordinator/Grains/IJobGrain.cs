namespace Dtrain.Coordinator.Grains;

/// <summary>One training job's progress and results (keyed by job id), as the workers report them.</summary>
public interface IJobGrain : IGrainWithStringKey
{
    Task ReportProgressAsync(RankProgress progress);

    Task FinishAsync(RankResult result);

    Task<JobStatus> GetStatusAsync();

    /// <summary>Forgets the progress and results of a failed epoch and moves to <paramref name="epoch"/>, whose workers report afresh.</summary>
    Task RestartAsync(long epoch);

    /// <summary>The job has failed for good.</summary>
    Task FailAsync(string reason);
}
