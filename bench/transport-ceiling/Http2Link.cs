using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Dtrain.TransportCeiling;

/// <summary>
/// HTTP/2 without TLS (h2c). Each rank runs a Kestrel server that receives one long-lived POST from the peer,
/// and sends its own data as the streamed body of one long-lived POST to the peer's server (HttpClient).
/// </summary>
sealed class Http2Link : ILink
{
    const int Window = 64 << 20, MaxFrame = 1 << 20;

    readonly WebApplication server;
    readonly HttpClient client = new(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
    readonly TaskCompletionSource<Stream> incoming = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource<Stream> outgoing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    Task<HttpResponseMessage>? response; // the answer to our request: it comes once the peer has received everything

    public Stream Outgoing { get; private set; } = Stream.Null;
    public Stream Incoming { get; private set; } = Stream.Null;

    Http2Link()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Limits.Http2.InitialConnectionWindowSize = Window;
            kestrel.Limits.Http2.InitialStreamWindowSize = Window;
            kestrel.Limits.Http2.MaxFrameSize = MaxFrame;
        });
        server = builder.Build();
        server.MapPost("/exchange", async (HttpContext context) =>
        {
            incoming.TrySetResult(context.Request.Body);
            await done.Task;
            // The peer ends its body right after its last exchange; a byte more means the ranks disagree on the count.
            int extra = await context.Request.Body.ReadAsync(new byte[1]);
            context.Response.StatusCode = extra == 0 ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError;
        });
    }

    public static async Task<Http2Link> ConnectAsync(Rendezvous rendezvous)
    {
        var link = new Http2Link();
        await link.server.StartAsync();
        int peerPort = await rendezvous.ExchangePortsAsync(new Uri(link.server.Urls.Single()).Port);
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{peerPort}/exchange")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new OpenEndedContent(link.outgoing, link.done.Task),
        };
        var response = link.response = link.client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (await Task.WhenAny(link.outgoing.Task, response) == response)
            throw new IOException($"the peer answered before the request body started: {(await response).StatusCode}");
        link.Outgoing = await link.outgoing.Task;
        link.Incoming = await link.incoming.Task;
        return link;
    }

    public async ValueTask DisposeAsync()
    {
        done.TrySetResult(); // ends our request body and lets our server answer the peer's request
        try
        {
            if (response is not null)
            {
                using var answer = await response;
                answer.EnsureSuccessStatusCode();
            }
        }
        finally
        {
            client.Dispose();
            await server.StopAsync();
            await server.DisposeAsync();
        }
    }

    /// <summary>A request body that hands its stream out to be written to, and ends when <c>end</c> completes.</summary>
    sealed class OpenEndedContent(TaskCompletionSource<Stream> stream, Task end) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream target, TransportContext? context)
        {
            stream.TrySetResult(target);
            return end;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
