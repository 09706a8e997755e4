using System.Globalization;
using System.Net;

namespace Dtrain.Contracts.Network;

/// <summary>
/// The one rule for each kind of network setting a command takes (a port, an address to listen on, a host name to
/// advertise, a server's URL): what is wrong with a value, in a line naming the setting, or null when nothing is.
/// </summary>
public static class Endpoints
{
    /// <param name="zeroPicksFree">Whether 0 means "any free port".</param>
    /// <param name="following">How many ports after it the server also takes (the coordinator's /metrics is on port + 1).</param>
    public static string? PortProblem(string name, long port, bool zeroPicksFree = false, int following = 0)
    {
        int highest = IPEndPoint.MaxPort - following;
        return port >= 1 && port <= highest || (zeroPicksFree && port == 0)
            ? null
            : $"{name} must be a TCP port, {(zeroPicksFree ? 0 : 1)} to {highest}{(zeroPicksFree ? " (0 picks a free one)" : "")}, got {port.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>An IP address of this host to listen on, such as 127.0.0.1 or 0.0.0.0.</summary>
    public static string? ListenAddressProblem(string name, string address) =>
        IPAddress.TryParse(address, out _) ? null : $"{name} must be an IP address to listen on, such as 127.0.0.1 or 0.0.0.0, got '{address}'";

    /// <summary>A host name or IP address others can reach this host at.</summary>
    public static string? HostProblem(string name, string host) =>
        Uri.CheckHostName(host) is UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6
            ? null
            : $"{name} must be a host name or IP address, got '{host}'";

    /// <summary>An http:// or https:// address with a host, such as http://127.0.0.1:29500.</summary>
    public static string? UrlProblem(string name, string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host != ""
            ? null
            : $"{name} must be an http:// or https:// address such as http://127.0.0.1:29500, got '{url}'";
}
