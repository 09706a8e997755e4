using Dtrain.Contracts.Jobs;

namespace Dtrain.Launcher.Jobs;

/// <summary>
/// Settings a job was given that its built-in model, optimizer or transport never reads (a graph section for model
/// mlp, shampoo settings under optimizer adam): valid, so the job goes on, but named in one warning, since they
/// usually mean the job is not the one its author had in mind.
/// </summary>
public static class UnusedSettings
{
    /// <summary>A field or section (by its dotted path), who reads it, and whether this job does.</summary>
    private sealed record Rule(string Path, string Readers, Func<JobSpec, bool> Reads)
    {
        public bool Covers(string path) => path == Path || path.StartsWith(Path + ".", StringComparison.Ordinal);
    }

    private static readonly Rule[] Rules =
    [
        new("graph", "model graphsage", job => job.Model == ModelKind.Graphsage),
        new("shampoo", "optimizer shampoo", job => job.Optimizer == OptimizerKind.Shampoo),
        new("data", "model transformer-lm", job => job.Model == ModelKind.TransformerLm),
        new("data_channel", "transport grpc", job => job.Transport == TransportKind.Grpc),
        new("bucket_mb", "data-parallel models, not cannon-mlp", job => job.Model != ModelKind.CannonMlp),
        new("overlap", "data-parallel models, not cannon-mlp", job => job.Model != ModelKind.CannonMlp),
    ];

    /// <summary>The warning for the settings of <paramref name="given"/> that <paramref name="job"/> does not read; null when it reads them all.</summary>
    /// <param name="given">Each setting given: its dotted path and how it was written (the job file's path, or the flag).</param>
    public static string? Warning(JobSpec job, IEnumerable<(string Path, string Shown)> given)
    {
        var unused = given
            .Select(setting => (setting.Shown, Rule: Rules.FirstOrDefault(rule => rule.Covers(setting.Path))))
            .Where(setting => setting.Rule is not null && !setting.Rule.Reads(job))
            .GroupBy(setting => setting.Rule!.Readers)
            .Select(group => $"{string.Join(", ", group.Select(setting => setting.Shown).Distinct())} (only {group.Key} reads them)")
            .ToList();
        return unused.Count == 0 ? null : $"ignoring settings this job does not use: {string.Join("; ", unused)}";
    }
}
