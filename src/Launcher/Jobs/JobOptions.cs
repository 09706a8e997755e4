using System.CommandLine;
using System.Reflection;
using System.Text.Json.Nodes;
using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Graph.Partitioning;
using Dtrain.Launcher.Options;
using Dtrain.Training;

namespace Dtrain.Launcher.Jobs;

/// <summary>
/// The job settings as command-line flags, one for every <see cref="FlagAttribute"/> of the job, and how they
/// combine: the defaults, then the job file, then the flags.
/// </summary>
public sealed class JobOptions
{
    private static readonly JsonObject Defaults = JobJson.ToNode(new JobSpec());

    /// <summary>A flag and the field it sets.</summary>
    private sealed record JobFlag(string Path, Type FieldType, Option Option);

    private readonly IReadOnlyList<JobFlag> flags = FlagsOf(typeof(JobSpec), "").ToArray();

    public Argument<FileInfo?> File { get; } = new("job-file")
    {
        Description = "YAML job file with any of the job's fields in snake_case (" + string.Join(", ", FieldNames(typeof(JobSpec), "")) + "); flags override it",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public JobOptions()
    {
        // Without this, a mistyped flag would be taken for the job file's name.
        File.Validators.Add(result =>
        {
            if (result.Tokens.FirstOrDefault()?.Value is { } value && value.StartsWith('-'))
            {
                result.AddError($"unknown option '{value}'");
            }
        });
    }

    public void AddTo(Command command)
    {
        command.Arguments.Add(File);
        foreach (var flag in flags) command.Options.Add(flag.Option);
    }

    /// <summary>The job as the file and flags describe it; a usage error if the result is invalid.</summary>
    /// <param name="builtIn">
    /// Whether the workers train the built-in model (not a user's program given after --): then what that model needs
    /// is checked too, and settings it never reads are named in one warning on <paramref name="warnings"/>.
    /// </param>
    public JobSpec Resolve(ParseResult parse, bool builtIn, TextWriter warnings)
    {
        var (spec, settings) = ReadWithSettings(parse);
        var more = GraphProblems(spec).Concat(DataProblems(spec)).Concat(CheckpointProblems(spec));
        Check(spec, parse.GetValue(File), builtIn ? more.Concat(BuiltInJobs.Problems(spec)) : more);
        if (builtIn && UnusedSettings.Warning(spec, settings) is { } warning) warnings.WriteLine($"dtrain: warning: {warning}");
        return spec;
    }

    /// <summary>The defaults, with the job file over them and the flags over that; paths made absolute, nothing checked.</summary>
    public JobSpec Read(ParseResult parse) => ReadWithSettings(parse).Spec;

    /// <summary>As <see cref="Read"/>, and each setting given: its dotted path, and how it was written (the job file's path, or the flag).</summary>
    private (JobSpec Spec, IReadOnlyList<(string Path, string Shown)> Settings) ReadWithSettings(ParseResult parse)
    {
        var file = parse.GetValue(File);
        var jobFile = file is null ? null : JobFile.Load(file.FullName);
        var given = flags.Where(flag => parse.GetResult(flag.Option) is not null).Select(flag => (flag, ValueOf(flag, parse))).ToArray();
        var spec = Layer(jobFile, given);
        // Workers may run elsewhere than the launcher's directory: hand them absolute paths.
        spec = spec with
        {
            Data = FullPath(spec.Data),
            Graph = spec.Graph with { Dir = FullPath(spec.Graph.Dir) },
            Checkpoints = spec.Checkpoints with { Dir = FullPath(spec.Checkpoints.Dir) },
        };
        return (spec, [.. jobFile?.Fields.Select(field => (field, field)) ?? [], .. given.Select(g => (g.flag.Path, g.flag.Option.Name))]);
    }

    /// <summary>The job a job file alone describes (defaults for what it leaves out).</summary>
    public static JobSpec FromFile(FileInfo file) => FromFile(JobFile.Load(file.FullName));

    /// <inheritdoc cref="FromFile(FileInfo)"/>
    public static JobSpec FromFile(JobFile file) => Layer(file, []);

    /// <summary>The defaults, the job file's document over them and the given flags' values over that, read as a job; a problem names its flag or its line.</summary>
    private static JobSpec Layer(JobFile? jobFile, IReadOnlyList<(JobFlag Flag, JsonNode? Value)> given)
    {
        var document = (JsonObject)Defaults.DeepClone();
        if (jobFile is not null) Merge(document, jobFile.Document);
        foreach (var (flag, value) in given) SetAt(document, flag.Path, value);
        try
        {
            return JobJson.FromNode(document);
        }
        catch (JobFieldException problem)
        {
            var fromFlag = given.Select(g => g.Flag).FirstOrDefault(flag => problem.Path == flag.Path);
            throw fromFlag is not null || jobFile is null
                ? new UsageException($"invalid job: {problem.Naming(fromFlag?.Option.Name ?? problem.Path)}")
                : jobFile.Locate(problem);
        }
    }

    /// <summary>Refuses a job id that is not a DNS label (<see cref="JobIds"/>), in one line; <paramref name="orEmpty"/> lets "" through.</summary>
    public static void AcceptJobId(Option option, bool orEmpty = false) => option.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<string?>() is { } id && !(orEmpty && id == "") && JobIds.Problem(id) is { } problem)
        {
            result.AddError($"{option.Name}: {problem}");
        }
    });

    /// <summary>Refuses any value of <paramref name="option"/> but true and false, in one line naming the option.</summary>
    public static void AcceptTrueOrFalse(Option<string?> option) => option.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<string?>() is { } value && value is not ("true" or "false"))
        {
            result.AddError($"{option.Name} must be true or false, got '{value}'");
        }
    });

    /// <summary>Fails with one usage error naming every problem of the job, its own and <paramref name="more"/>.</summary>
    public static void Check(JobSpec spec, FileInfo? file, IEnumerable<string> more)
    {
        var problems = spec.Problems().Concat(more).ToList();
        if (problems.Count > 0)
        {
            string source = file is null ? "" : $" (job file {file.Name} and flags)";
            throw new UsageException($"invalid job{source}: {string.Join("; ", problems)}");
        }
    }

    private static IEnumerable<JobFlag> FlagsOf(Type section, string prefix)
    {
        foreach (var field in JobJson.Fields(section))
        {
            string path = prefix + JobJson.FieldName(field);
            if (JobJson.IsSection(field))
            {
                foreach (var flag in FlagsOf(field.PropertyType, path + ".")) yield return flag;
            }
            else if (field.GetCustomAttribute<FlagAttribute>() is { } attribute)
            {
                yield return new JobFlag(path, field.PropertyType, CreateOption(attribute, path, field.PropertyType));
            }
        }
    }

    private static Option CreateOption(FlagAttribute flag, string path, Type fieldType)
    {
        string help = flag.HideDefault ? flag.Help : $"{flag.Help} [default: {DefaultOf(path)}]";
        string[] aliases = flag.Alias is null ? [] : [flag.Alias];
        // A setting that is off by default is a switch; one that is on takes true or false.
        if (fieldType == typeof(bool) && DefaultOf(path) == "false") return new Option<bool>(flag.Name, aliases) { Description = help };
        return new Option<string>(flag.Name, aliases) { Description = help };
    }

    private static string DefaultOf(string path)
    {
        var node = NodeAt(Defaults, path);
        return node is JsonArray list ? string.Join(",", list) : node?.ToString() ?? "";
    }

    private static JsonNode? ValueOf(JobFlag flag, ParseResult parse)
    {
        if (flag.Option is Option<bool> toggle) return JsonValue.Create(parse.GetValue(toggle));
        string text = parse.GetValue((Option<string>)flag.Option) ?? "";
        if (flag.FieldType.IsArray) return new JsonArray(text.Split(',', StringSplitOptions.TrimEntries).Select(JobFile.ReadPlain).ToArray());
        return flag.FieldType == typeof(string) ? JsonValue.Create(text) : JobFile.ReadPlain(text);
    }

    /// <summary>Lays <paramref name="layer"/> over <paramref name="document"/>: sections merge field by field, values replace.</summary>
    private static void Merge(JsonObject document, JsonObject layer)
    {
        foreach (var (key, value) in layer.ToArray())
        {
            if (value is JsonObject section && document[key] is JsonObject existing) Merge(existing, section);
            else document[key] = value?.DeepClone();
        }
    }

    private static void SetAt(JsonObject document, string path, JsonNode? value)
    {
        var names = path.Split('.');
        var section = document;
        foreach (var name in names[..^1]) section = section[name] as JsonObject ?? (JsonObject)(section[name] = new JsonObject());
        section[names[^1]] = value;
    }

    private static JsonNode? NodeAt(JsonObject document, string path)
    {
        JsonNode? node = document;
        foreach (var name in path.Split('.')) node = node?[name];
        return node;
    }

    private static IEnumerable<string> FieldNames(Type section, string prefix) => JobJson.Fields(section).SelectMany(field =>
        JobJson.IsSection(field) && field.PropertyType != typeof(ShampooOptions)
            ? FieldNames(field.PropertyType, prefix + JobJson.FieldName(field) + ".")
            : [prefix + JobJson.FieldName(field)]);

    private static string FullPath(string path) => path == "" ? "" : Path.GetFullPath(path);

    /// <summary>A checkpoint directory that cannot be written, found before any worker starts.</summary>
    private static IEnumerable<string> CheckpointProblems(JobSpec spec)
    {
        if (spec.Checkpoints.Every > 0 && spec.Checkpoints.Dir != "" && OutputPaths.DirectoryProblem("checkpoints.dir", spec.Checkpoints.Dir) is { } problem)
        {
            yield return problem;
        }
    }

    /// <summary>A text corpus that is not there, found before any worker starts.</summary>
    private static IEnumerable<string> DataProblems(JobSpec spec)
    {
        if (spec.Data != "" && !System.IO.File.Exists(spec.Data) && !Directory.Exists(spec.Data)) yield return $"data: {spec.Data}: no such file or directory";
    }

    /// <summary>A graph directory that cannot serve this job, found before any worker starts.</summary>
    private static IEnumerable<string> GraphProblems(JobSpec spec)
    {
        if (spec.Model != ModelKind.Graphsage || spec.Graph.Dir == "") yield break;
        string? problem = null;
        try
        {
            PartitionStore.CheckPartitionCount(spec.Graph.Dir, PartitionStore.ReadManifest(spec.Graph.Dir), spec.Workers);
        }
        catch (DtrainException e)
        {
            problem = $"graph: {e.Message}";
        }
        if (problem is not null) yield return problem;
    }
}
