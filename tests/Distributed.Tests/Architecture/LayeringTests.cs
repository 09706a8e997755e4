using System.Reflection;
using System.Text.Json;
using System.Xml.Linq;

namespace Dtrain.Tests.Architecture;

/// <summary>
/// Models and Collectives build on the common Contracts only: neither on ASP.NET Core (Hosting's part) nor on the
/// coordinator's protocol (Protocol's).
/// </summary>
public class LayeringTests
{
    [Theory]
    [InlineData("Dtrain.Models")]
    [InlineData("Dtrain.Collectives")]
    public void Depends_on_neither_ASP_NET_Core_nor_the_coordinators_protocol(string library)
    {
        var closure = DependencyClosure(library);

        Assert.Contains("Dtrain.Contracts", closure);
        Assert.DoesNotContain(closure, IsForbidden);
        // The shared frameworks are not in deps.json: a project names them in its file, and its assembly references what it uses of them.
        foreach (var project in closure.Where(name => name.StartsWith("Dtrain.")))
        {
            Assert.DoesNotContain(ProjectFile(project).Descendants("FrameworkReference"), reference => IsForbidden((string)reference.Attribute("Include")!));
            Assert.DoesNotContain(Assembly.Load(project).GetReferencedAssemblies(), reference => IsForbidden(reference.Name!));
        }
    }

    private static bool IsForbidden(string name) => name.Contains("AspNetCore") || name is "Dtrain.Protocol" or "Dtrain.Hosting";

    /// <summary><paramref name="library"/> and the projects and packages it depends on, transitively, as the tests' deps.json records them.</summary>
    private static HashSet<string> DependencyClosure(string library)
    {
        using var deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Dtrain.Tests.deps.json")));
        var libraries = deps.RootElement.GetProperty("targets").EnumerateObject().Single().Value.EnumerateObject()
            .ToDictionary(entry => entry.Name.Split('/')[0], entry => entry.Value);
        var closure = new HashSet<string>();
        var pending = new Stack<string>([library]);
        while (pending.TryPop(out var name))
        {
            if (!closure.Add(name) || !libraries[name].TryGetProperty("dependencies", out var dependencies)) continue;
            foreach (var dependency in dependencies.EnumerateObject()) pending.Push(dependency.Name);
        }
        return closure;
    }

    /// <summary>The project file of assembly Dtrain.X: src/X/X.csproj.</summary>
    private static XDocument ProjectFile(string assembly)
    {
        var project = assembly["Dtrain.".Length..];
        return XDocument.Load(RepositoryFiles.PathOf($"src/{project}/{project}.csproj"));
    }
}
