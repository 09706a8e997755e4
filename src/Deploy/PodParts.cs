using k8s.Models;

namespace Dtrain.Deploy;

/// <summary>The pieces pod templates share: metadata, environment variables, ports and probes.</summary>
internal static class PodParts
{
    public static V1ObjectMeta Metadata(JobNames names, string name, string component) =>
        new() { Name = name, NamespaceProperty = names.Namespace, Labels = names.Selector(component) };

    /// <summary>Pod metadata with the annotations Prometheus' kubernetes_sd configurations look for.</summary>
    public static V1ObjectMeta ScrapedPod(Dictionary<string, string> labels, int metricsPort) => new()
    {
        Labels = labels,
        Annotations = new Dictionary<string, string>
        {
            ["prometheus.io/scrape"] = "true",
            ["prometheus.io/port"] = metricsPort.ToString(),
            ["prometheus.io/path"] = "/metrics",
        },
    };

    public static V1EnvVar Value(string name, string value) => new() { Name = name, Value = value };

    /// <summary>A variable the downward API fills in from the pod's own fields, e.g. status.podIP.</summary>
    public static V1EnvVar FromField(string name, string fieldPath) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = fieldPath } } };

    public static V1EnvVar FromSecret(string name, string secret, string key) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key } } };

    public static V1ContainerPort Port(string name, int port) => new() { Name = name, ContainerPort = port, Protocol = "TCP" };

    public static V1ServicePort ServicePort(string name, int port) => new() { Name = name, Port = port, TargetPort = name, Protocol = "TCP" };

    /// <summary>Every dtrain process serves /metrics as soon as it starts: the probe that it is alive.</summary>
    public static V1Probe MetricsProbe(string portName, int periodSeconds, int failureThreshold) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = "/metrics", Port = portName },
        PeriodSeconds = periodSeconds,
        FailureThreshold = failureThreshold,
    };

    public static V1Probe TcpProbe(string portName) => new() { TcpSocket = new V1TCPSocketAction { Port = portName }, PeriodSeconds = 5 };
}
