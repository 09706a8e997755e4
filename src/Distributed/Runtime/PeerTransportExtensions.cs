using Dtrain.Collectives.Transports.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Dtrain.Distributed.Runtime;

internal static class PeerTransportExtensions
{
    /// <summary>Registers gRPC and this worker's <see cref="PeerInbox"/>, so peers can stream frames here.</summary>
    public static IServiceCollection AddPeerTransport(this IServiceCollection services, PeerInbox inbox)
    {
        services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = 8 << 20);
        return services.AddSingleton(inbox);
    }

    public static IEndpointRouteBuilder MapPeerTransport(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<PeerService>();
        return endpoints;
    }
}
