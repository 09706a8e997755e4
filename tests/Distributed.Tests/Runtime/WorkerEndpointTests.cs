using System.Net.Sockets;
using Dtrain.Collectives.Transports.Grpc;
using Dtrain.Contracts.Jobs;
using Dtrain.Contracts.Network;
using Dtrain.Distributed.Runtime;
using Dtrain.Hosting;

namespace Dtrain.Tests.Runtime;

public class WorkerEndpointTests
{
    /// <summary>
    /// Workers started together on one host each bind port 0 and advertise the port the kernel gave: every address
    /// serves, no two collide, and the ports lie in the kernel's range for port 0 (a port picked first and bound after
    /// lies below it, and may be taken in between by another worker).
    /// </summary>
    [Fact]
    public async Task Endpoints_started_together_on_port_zero_serve_at_the_distinct_ports_the_kernel_gave_them()
    {
        var inboxes = Enumerable.Range(0, 12).Select(_ => new PeerInbox(JobToken.Generate())).ToArray();
        var endpoints = await Task.WhenAll(inboxes.Select(inbox =>
            WorkerEndpoint.StartAsync(inbox, "127.0.0.1", "127.0.0.1", 0, 0, GrpcTls.None, [], ConnectionLimits.Default, default)));
        try
        {
            var peerPorts = endpoints.Select(e => new Uri(e.PeerAddress).Port).ToArray();
            var metricsPorts = endpoints.Select(e => new Uri(e.MetricsAddress).Port).ToArray();
            Assert.Equal(24, peerPorts.Concat(metricsPorts).Distinct().Count());
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            Assert.All(peerPorts.Concat(metricsPorts), port => Assert.InRange(port, range[0], range[1]));
            using var http = new HttpClient();
            foreach (var endpoint in endpoints)
            {
                Assert.Contains("# TYPE", await http.GetStringAsync(endpoint.MetricsAddress));
                using var peer = new TcpClient();
                await peer.ConnectAsync("127.0.0.1", new Uri(endpoint.PeerAddress).Port);
            }
        }
        finally
        {
            foreach (var endpoint in endpoints) await endpoint.DisposeAsync();
            foreach (var inbox in inboxes) inbox.Dispose();
        }
    }
}
