using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Network;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Tests.Launcher;

/// <summary>TLS on the gRPC endpoints, with a CA and a server certificate made for the test.</summary>
public class TlsTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_run_with_tls_trains_over_https()
    {
        using var certificates = new TestCertificates();
        string port = TestPorts.FreePair().ToString();

        using var dtrain = DtrainProcess.Start(["run", "--workers", "2", "--steps", "20", "--device", "cpu", "--port", port],
            certificates.Environment(certificates.AuthorityFile));

        int code = await dtrain.WaitAsync(Limit);
        Assert.True(code == 0, $"exit code {code}; stderr: {dtrain.Stderr}");
        Assert.Contains($"coordinator https://127.0.0.1:{port}", dtrain.Stdout);
        Assert.Contains("done: 20 steps on 2 workers", dtrain.Stdout);
    }

    [Fact]
    public async Task A_tls_coordinator_refuses_cleartext_and_clients_that_do_not_trust_its_ca()
    {
        using var certificates = new TestCertificates();
        string token = JobToken.Generate();
        await using var host = await CoordinatorHost.StartAsync(new CoordinatorOptions
        {
            JobId = "tls", JobToken = token, Job = new JobSpec { Workers = 1, Port = TestPorts.FreePair() },
            Tls = GrpcTls.Load(certificates.CertificateFile, certificates.KeyFile, null),
        });
        var request = new StatusRequest { JobToken = token };
        Assert.StartsWith("https://", host.Address);

        using (var trusting = GrpcTls.Load(null, null, certificates.AuthorityFile).CreateChannel(host.Address))
        {
            Assert.Equal("tls", (await new Contracts.Coordinator.Coordinator.CoordinatorClient(trusting).StatusAsync(request)).JobId);
        }
        using (var cleartext = GrpcChannel.ForAddress("http://" + host.Address["https://".Length..]))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => new Contracts.Coordinator.Coordinator.CoordinatorClient(cleartext).StatusAsync(request).ResponseAsync);
            // The TLS endpoint reads cleartext HTTP/2 as garbage and drops it; the client names that Unavailable or,
            // when it had read part of an answer, Internal.
            Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        }

        var untrusting = new Dictionary<string, string> { ["DTRAIN_JOB_TOKEN"] = token, ["DTRAIN_TLS_CA"] = certificates.StrangerAuthorityFile };
        using var status = DtrainProcess.Start(["status", "--coordinator", host.Address], untrusting);
        using var worker = DtrainProcess.Start(["worker", "--coordinator", host.Address], untrusting);
        Assert.Equal(1, await status.WaitAsync(Limit));
        Assert.Equal(1, await worker.WaitAsync(Limit));
        BadInputTests.AssertOneLineError(status.Stderr, $"cannot reach the coordinator at {host.Address}: TLS handshake failed: ");
        BadInputTests.AssertOneLineError(worker.Stderr, $"cannot reach the coordinator at {host.Address}: TLS handshake failed: ");
    }

    [Theory]
    [InlineData("DTRAIN_TLS_CERT", "give both or neither")]
    [InlineData("DTRAIN_TLS_KEY", "give both or neither")]
    [InlineData("DTRAIN_TLS_CA", "cannot read the TLS file /nonexistent/ca.pem")]
    public async Task Incomplete_or_unreadable_tls_files_are_a_usage_error(string variable, string expected)
    {
        using var dtrain = DtrainProcess.Start(["run", "--port", TestPorts.FreePair().ToString()],
            new Dictionary<string, string> { [variable] = "/nonexistent/ca.pem" });
        Assert.Equal(2, await dtrain.WaitAsync(Limit));
        BadInputTests.AssertOneLineError(dtrain.Stderr, expected);
    }
}
