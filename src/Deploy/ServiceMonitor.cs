using k8s.Models;

namespace Dtrain.Deploy;

/// <summary>
/// The Prometheus Operator's ServiceMonitor (monitoring.coreos.com/v1), which KubernetesClient has no model for:
/// the fields dtrain uses, serialized by KubernetesYaml like the built-in kinds.
/// </summary>
public sealed record ServiceMonitor
{
    public const string ApiGroupVersion = "monitoring.coreos.com/v1";

    public string ApiVersion { get; init; } = ApiGroupVersion;

    public string Kind { get; init; } = nameof(ServiceMonitor);

    public V1ObjectMeta Metadata { get; init; } = new();

    public ServiceMonitorSpec Spec { get; init; } = new();
}

public sealed record ServiceMonitorSpec
{
    /// <summary>The Services whose endpoints are scraped.</summary>
    public V1LabelSelector Selector { get; init; } = new();

    public NamespaceSelector? NamespaceSelector { get; init; }

    public List<MonitorEndpoint> Endpoints { get; init; } = [];
}

public sealed record NamespaceSelector
{
    public List<string> MatchNames { get; init; } = [];
}

/// <summary>One port of the selected Services to scrape, by its name.</summary>
public sealed record MonitorEndpoint
{
    public string Port { get; init; } = "";

    public string Path { get; init; } = "/metrics";

    public string Interval { get; init; } = "15s";
}
