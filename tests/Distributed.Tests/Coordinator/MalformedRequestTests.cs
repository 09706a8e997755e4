using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Dtrain.Contracts.Jobs;
using Dtrain.Coordinator;
using Grpc.Core;

namespace Dtrain.Tests.Coordinator;

/// <summary>
/// gRPC requests whose bytes are not the message they claim to be, sent as raw HTTP/2 frames to a real coordinator:
/// random bytes instead of a protobuf message, a length prefix of 4 GiB, a body cut short. Each is refused with
/// a status that names what was wrong, never "Exception was thrown by handler".
/// </summary>
public class MalformedRequestTests : IAsyncLifetime
{
    private CoordinatorHost host = null!;
    private readonly HttpClient http = new();

    public async Task InitializeAsync()
    {
        string jobId = $"job-{Guid.NewGuid():N}";
        host = await CoordinatorHost.StartAsync(new CoordinatorOptions
        {
            JobId = jobId, JobToken = JobToken.Generate(), Job = new JobSpec { Workers = 2, Port = TestPorts.FreePair() },
        });
    }

    public async Task DisposeAsync()
    {
        http.Dispose();
        await host.DisposeAsync();
    }

    /// <summary>A gRPC message frame: the compression flag, the big-endian length it claims, and the bytes that follow.</summary>
    private static byte[] Frame(uint claimedLength, byte[] bytes)
    {
        var frame = new byte[5 + bytes.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), claimedLength);
        bytes.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>Posts <paramref name="body"/> to a method of the coordinator; the grpc-status and grpc-message it answered.</summary>
    private async Task<(StatusCode Code, string Message)> CallAsync(string method, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{host.Address}/dtrain.coordinator.Coordinator/{method}") 
        {
            Content = new ByteArrayContent(body), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        string? Header(string name) =>
            response.TrailingHeaders.TryGetValues(name, out var values) || response.Headers.TryGetValues(name, out values) ? values.Single() : null;
        string status = Header("grpc-status") ?? throw new Xunit.Sdk.XunitException($"no grpc-status: HTTP {(int)response.StatusCode} {response}");
        return ((StatusCode)int.Parse(status), Uri.UnescapeDataString(Header("grpc-message") ?? ""));
    }

    [Fact]
    public async Task Random_bytes_for_a_message_are_an_invalid_argument_that_says_so()
    {
        var random = new Random(20261205);
        var garbage = new byte[97];
        random.NextBytes(garbage);

        foreach (string method in new[] { "Join", "Report", "Finish", "Status" })
        {
            var (code, message) = await CallAsync(method, Frame((uint)garbage.Length, garbage));
            Assert.Equal(StatusCode.InvalidArgument, code);
            Assert.StartsWith("malformed request: ", message);
        }
    }

    [Fact]
    public async Task A_four_gigabyte_length_prefix_is_refused_as_too_large()
    {
        var (code, message) = await CallAsync("Join", Frame(uint.MaxValue, [1, 2, 3]));

        Assert.Equal(StatusCode.ResourceExhausted, code);
        Assert.Contains("exceeds the maximum", message);
    }

    [Fact]
    public async Task A_message_cut_short_is_refused_and_the_coordinator_answers_the_next_call()
    {
        var (code, _) = await CallAsync("Status", Frame(100, [1, 2, 3]));

        Assert.NotEqual(StatusCode.Unknown, code);
        Assert.NotEqual(StatusCode.OK, code);
        var (status, _) = await CallAsync("Status", Frame(0, []));
        Assert.Equal(StatusCode.Unauthenticated, status);   // an empty StatusRequest: a valid message, with no token
    }
}
