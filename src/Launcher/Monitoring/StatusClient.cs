using Dtrain.Contracts.Coordinator;
using Dtrain.Contracts.Network;
using Dtrain.Coordinator;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Launcher.Monitoring;

/// <summary>
/// A coordinator's Status rpc, called with the job token: what `dtrain status` prints and what a launcher watches its
/// job through. A call that fails says why in one line: the token was refused, or the coordinator cannot be reached.
/// </summary>
public sealed class StatusClient : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly GrpcChannel channel;
    private readonly Contracts.Coordinator.Coordinator.CoordinatorClient client;
    private readonly string address;
    private readonly string jobToken;

    private StatusClient(GrpcChannel channel, string address, string jobToken)
    {
        this.channel = channel;
        client = new Contracts.Coordinator.Coordinator.CoordinatorClient(channel);
        this.address = address;
        this.jobToken = jobToken;
    }

    /// <summary>A client of the coordinator at <paramref name="address"/>, with this process's TLS settings.</summary>
    public static StatusClient Connect(string address, string jobToken) => new(JobEnvironment.Tls().CreateChannel(address), address, jobToken);

    /// <summary>A client of the coordinator this process hosts, through its own gRPC endpoint.</summary>
    public static StatusClient Of(CoordinatorHost coordinator) =>
        new(coordinator.Options.Tls.CreateOwnChannel(coordinator.OwnAddress), coordinator.OwnAddress, coordinator.Options.JobToken);

    public async Task<StatusReply> GetAsync(CancellationToken ct)
    {
        try
        {
            return await client.StatusAsync(new StatusRequest { JobToken = jobToken }, deadline: DateTime.UtcNow + Deadline, cancellationToken: ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && GrpcTls.HandshakeFailure(e) is null)
        {
            throw new CoordinatorUnavailableException($"cannot reach the coordinator at {address}: {e.Status.Detail}");
        }
        catch (RpcException e)
        {
            throw new DtrainException(e.StatusCode == StatusCode.Unauthenticated
                ? $"the coordinator at {address} refused the job token"
                : $"cannot reach the coordinator at {address}: {GrpcTls.HandshakeFailure(e) ?? e.Status.Detail}");
        }
    }

    public async Task<JobView> GetJobAsync(CancellationToken ct) => JobView.Of(await GetAsync(ct), DateTime.UtcNow);

    public void Dispose() => channel.Dispose();
}

/// <summary>The coordinator did not answer, or answered that it cannot now: a later call may succeed.</summary>
public sealed class CoordinatorUnavailableException(string message) : DtrainException(message);
