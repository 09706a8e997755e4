namespace Dtrain.Coordinator.Grains;

/// <summary>One training job's progress and results (keyed by job id), as the workers report them.</summary>
public interface IJobGrain : IGrainWithStringKey
{
    Task ReportProgressAsync(RankProgress progress);

    Task FinishAsync(RankResult result);

    Task<JobStatus> GetStatusAsync();

    /// <summary>Forgets the progress and results of a failed epoch; the next epoch reports afresh.</summary>
    Task RestartAsync();
}
