using Dtrain.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Dtrain.Graph.Service;

public static class SamplingServiceExtensions
{
    /// <summary>A batch of requests can carry a few hundred thousand node IDs; gRPC's 4 MiB default is too small.</summary>
    public const int MaxMessageBytes = 1 << 30;

    /// <summary>Registers the sampling service for <paramref name="served"/>; call after AddGrpc.</summary>
    public static IServiceCollection AddGraphSampling(this IServiceCollection services, ServedPartitions served)
    {
        services.AddGrpc().AddServiceOptions<SamplingService>(options =>
        {
            options.MaxReceiveMessageSize = MaxMessageBytes;
            options.MaxSendMessageSize = MaxMessageBytes;
        });
        return services.AddSingleton(served);
    }

    public static IEndpointRouteBuilder MapGraphSampling(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<SamplingService>();
        return endpoints;
    }
}

/// <summary>The sampling service of <paramref name="served"/> on a worker's endpoint.</summary>
public sealed class SamplingEndpoint(ServedPartitions served) : IEndpointService
{
    public ServedPartitions Served => served;

    public void Register(WebApplicationBuilder builder) => builder.Services.AddGraphSampling(served);

    public void Map(WebApplication app) => app.MapGraphSampling();
}
