using Dtrain.Contracts.Network;
using Dtrain.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtrain.Tests.Hosting;

public class ServerLogTests
{
    /// <summary>A server's logs (the coordinator's silo inside `dtrain run --json`, say) never reach stdout, the command's own output.</summary>
    [Fact]
    public async Task A_servers_log_goes_to_stderr_and_never_to_stdout()
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var app = GrpcWebHost.CreateBuilder("127.0.0.1", 0, 0, GrpcTls.None, ConnectionLimits.Default, out _).Build();
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Dtrain.Tests").LogError("a fault of {Server}", "the server");
            // Disposing the host flushes its console logger's queue.
            await app.DisposeAsync();
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
        Assert.Equal("", stdout.ToString());
        Assert.Contains("a fault of the server", stderr.ToString());
    }
}
