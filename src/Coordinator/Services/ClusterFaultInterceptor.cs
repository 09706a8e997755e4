using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Dtrain.Coordinator.Services;

/// <summary>
/// With its state in Redis, a job may have several coordinators, each a silo of one Orleans cluster. When one of them
/// dies, calls to grains that lived on it fail until the cluster declares it dead and activates them elsewhere (seconds).
/// Such a failure is answered as Unavailable, which workers retry, instead of a handler's exception, which ends them.
/// </summary>
public sealed class ClusterFaultInterceptor(ILogger<ClusterFaultInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (OrleansMessageRejectionException lostSilo)
        {
            string reason = lostSilo.Message.Split('\n')[0];
            logger.LogWarning("{Method}: a coordinator of the job's cluster cannot be reached; the call is to be retried: {Reason}", context.Method, reason);
            throw new RpcException(new Status(StatusCode.Unavailable, $"a coordinator of the job's cluster cannot be reached, retry: {reason}"));
        }
    }
}
