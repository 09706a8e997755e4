using Dtrain.Contracts;
using Dtrain.Contracts.Jobs;
using Dtrain.Optimizers.Shampoo;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Dtrain.Launcher.Jobs;

/// <summary>
/// A YAML job file: the same settings as the run command's flags, in snake_case (workers, steps, batch_size, lr,
/// seed, device, bucket_mb, compression, overlap, shard_optimizer_state, transport, data_channel, collective_timeout_s, port; for transformer-lm data; for graphsage graph, fanouts
/// (a list), graph_task, feature_cache), and a shampoo section. Every key
/// is optional; an unknown key is an error, not a silently ignored typo.
/// </summary>
public sealed class JobFile
{
    public int? Workers { get; set; }
    public int? Steps { get; set; }
    public int? BatchSize { get; set; }
    public double? Lr { get; set; }
    public string? Model { get; set; }
    public string? Optimizer { get; set; }
    public long? Seed { get; set; }
    public string? Device { get; set; }
    public double? BucketMb { get; set; }
    public string? Compression { get; set; }
    public bool? Overlap { get; set; }
    public bool? ShardOptimizerState { get; set; }
    public string? Transport { get; set; }
    public string? DataChannel { get; set; }
    public double? CollectiveTimeoutS { get; set; }
    public int? Port { get; set; }
    public string? Graph { get; set; }
    public string? Data { get; set; }
    public List<int>? Fanouts { get; set; }
    public string? GraphTask { get; set; }
    public int? FeatureCache { get; set; }
    public string? CheckpointDir { get; set; }
    public int? CheckpointEvery { get; set; }
    public int? KeepCheckpoints { get; set; }
    public bool? Resume { get; set; }
    public int? MaxRestarts { get; set; }
    public double? HeartbeatTimeoutS { get; set; }
    public int? MinWorkers { get; set; }
    public double? LastCallS { get; set; }
    public double? JoinTimeoutS { get; set; }
    /// <summary>Distributed Shampoo's options by the reference's names; absent keys take the reference's defaults.</summary>
    public ShampooOptions? Shampoo { get; set; }

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .WithEnumNamingConvention(UnderscoredNamingConvention.Instance)
        .WithTypeMapping<IReadOnlyDictionary<int, double[]>, Dictionary<int, double[]>>()
        .Build();

    /// <summary>The keys a section of <paramref name="type"/> accepts, as YAML spells them.</summary>
    private static string KnownFields(Type type) => string.Join(", ", type.GetProperties()
        .Where(p => p.CanWrite)
        .Select(p => UnderscoredNamingConvention.Instance.Apply(p.Name)));

    public static JobFile Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read job file {path}: {e.Message}");
        }
        try
        {
            return Yaml.Deserialize<JobFile?>(text) ?? new JobFile();
        }
        catch (YamlException e)
        {
            throw new UsageException($"job file {path}, line {e.Start.Line}: {Describe(e, text)}");
        }
    }

    public JobSpec ApplyTo(JobSpec spec) => spec with
    {
        Workers = Workers ?? spec.Workers,
        Steps = Steps ?? spec.Steps,
        BatchSize = BatchSize ?? spec.BatchSize,
        LearningRate = Lr ?? spec.LearningRate,
        Model = Model ?? spec.Model,
        Optimizer = Optimizer ?? spec.Optimizer,
        Seed = Seed ?? spec.Seed,
        Device = Device ?? spec.Device,
        BucketMegabytes = BucketMb ?? spec.BucketMegabytes,
        Compression = Compression ?? spec.Compression,
        Overlap = Overlap ?? spec.Overlap,
        ShardOptimizerState = ShardOptimizerState ?? spec.ShardOptimizerState,
        Transport = Transport ?? spec.Transport,
        DataChannel = DataChannel ?? spec.DataChannel,
        CollectiveTimeoutSeconds = CollectiveTimeoutS ?? spec.CollectiveTimeoutSeconds,
        Port = Port ?? spec.Port,
        Graph = Graph ?? spec.Graph,
        Data = Data ?? spec.Data,
        Fanouts = Fanouts is null ? spec.Fanouts : string.Join(",", Fanouts),
        GraphTask = GraphTask ?? spec.GraphTask,
        FeatureCache = FeatureCache ?? spec.FeatureCache,
        CheckpointDir = CheckpointDir ?? spec.CheckpointDir,
        CheckpointEvery = CheckpointEvery ?? spec.CheckpointEvery,
        KeepCheckpoints = KeepCheckpoints ?? spec.KeepCheckpoints,
        Resume = Resume ?? spec.Resume,
        MaxRestarts = MaxRestarts ?? spec.MaxRestarts,
        HeartbeatTimeoutSeconds = HeartbeatTimeoutS ?? spec.HeartbeatTimeoutSeconds,
        MinWorkers = MinWorkers ?? spec.MinWorkers,
        LastCallSeconds = LastCallS ?? spec.LastCallSeconds,
        JoinTimeoutSeconds = JoinTimeoutS ?? spec.JoinTimeoutSeconds,
        Shampoo = Shampoo is null ? spec.Shampoo : ShampooOptionsJson.Serialize(Shampoo),
    };

    /// <summary>YamlDotNet's messages name its own types; say what is wrong in the file's terms instead.</summary>
    private static string Describe(YamlException e, string text)
    {
        var innermost = e;
        while (innermost.InnerException is YamlException inner) innermost = inner;
        string message = innermost.InnerException?.Message ?? innermost.Message;
        var unknown = Regex.Match(message, "Property '([^']+)' not found on type '([^']+)'");
        if (unknown.Success)
        {
            var (section, type) = unknown.Groups[2].Value == typeof(ShampooOptions).FullName ? ("shampoo.", typeof(ShampooOptions)) : ("", typeof(JobFile));
            return $"unknown field '{section}{unknown.Groups[1].Value}' (known: {KnownFields(type)})";
        }
        if (e is SemanticErrorException or SyntaxErrorException)
        {
            return $"not valid YAML: {innermost.Message}";
        }
        // A value of the wrong type: name the field it belongs to, read from the offending line.
        string line = text.Split('\n').ElementAtOrDefault((int)e.Start.Line - 1) ?? "";
        var field = Regex.Match(line, @"^\s*([A-Za-z_]+)\s*:\s*(.*)$");
        return field.Success
            ? $"bad value '{field.Groups[2].Value.Trim()}' for field '{field.Groups[1].Value}'"
            : $"bad value: {message}";
    }
}
