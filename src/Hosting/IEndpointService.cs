using Microsoft.AspNetCore.Builder;

namespace Dtrain.Hosting;

/// <summary>A service a worker's endpoint serves beside the peer transport (the graph sampling service of a graph job).</summary>
public interface IEndpointService
{
    void Register(WebApplicationBuilder builder);

    void Map(WebApplication app);
}
