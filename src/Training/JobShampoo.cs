using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers.Shampoo;

namespace Dtrain.Training;

/// <summary>The Shampoo options of a job: its shampoo section, or the reference's example recipe; the lr is the job's.</summary>
public static class JobShampoo
{
    /// <summary>Adam grafting and roots refreshed every 10 steps (reference section 6), on the job's lr.</summary>
    public static readonly ShampooOptions Recipe = new()
    {
        Grafting = GraftingType.Adam,
        GraftingEpsilon = 1e-8,
        PreconditionFrequency = 10,
    };

    public static ShampooOptions Options(JobSpec job) => WithJobLr(Section(job), job);

    /// <summary>What is wrong with the job's Shampoo options, each naming the option.</summary>
    public static IEnumerable<string> Problems(JobSpec job)
    {
        var section = Section(job);
        if (section is not null && section.LearningRate != new ShampooOptions().LearningRate)
        {
            yield return "shampoo: its learning rate is the job's lr, not shampoo.learning_rate";
        }
        var options = WithJobLr(section, job);
        foreach (var problem in options.Problems()) yield return $"shampoo.{problem}";
        if (options.NumTrainersPerGroup is { } perGroup && job.Workers % perGroup != 0)
        {
            yield return $"shampoo.num_trainers_per_group {perGroup} does not divide workers {job.Workers}";
        }
    }

    private static ShampooOptions WithJobLr(ShampooOptions? section, JobSpec job) => (section ?? Recipe) with { LearningRate = job.LearningRate };

    /// <summary>The job file's shampoo section, or null when it has none.</summary>
    private static ShampooOptions? Section(JobSpec job) =>
        job.Shampoo.Length == 0 ? null : ShampooOptionsJson.Deserialize(job.Shampoo);
}
