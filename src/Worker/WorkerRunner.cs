using Dtrain.Contracts.Jobs;
using Dtrain.Distributed;
using Dtrain.Graph.Service;
using Dtrain.Training;

namespace Dtrain.Worker;

/// <summary>
/// One rank of a built-in job (`dtrain worker`): the model the job names, trained through the same
/// <see cref="DistributedJob"/> a user's own program uses. Its endpoint also serves the graph sampling service, which
/// a graph job's partition answers on.
/// </summary>
public static class WorkerRunner
{
    public static async Task<TrainingResult> RunAsync(WorkerOptions options, TextWriter log, CancellationToken ct)
    {
        var sampling = new SamplingEndpoint(new ServedPartitions(presented => JobToken.Matches(options.JobToken, presented)));
        await using var job = await DistributedJob.InitAsync(options, log, [sampling], ct);
        return await job.RunAsync((context, epochCt) => BuiltInJobs.TrainAsync(context, sampling.Served, epochCt), ct);
    }
}
