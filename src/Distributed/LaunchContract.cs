using System.Globalization;
using Dtrain.Collectives.Transports.Mpi;
using Dtrain.Contracts;
using Dtrain.Contracts.Network;

namespace Dtrain.Distributed;

/// <summary>What a worker's launcher told it: its rank and the world size (null: not told), and the coordinator's address.</summary>
public sealed record LaunchedWorker(int? Rank, int? WorldSize, string Coordinator);

/// <summary>
/// How `dtrain worker` learns its rank, the world size and the coordinator's address from the launchers users
/// already have. Sources, the first that gives a value wins:
/// <list type="number">
/// <item>the flags --rank, --world-size, --coordinator;</item>
/// <item>DTRAIN_RANK, DTRAIN_WORLD_SIZE, DTRAIN_COORDINATOR;</item>
/// <item>torchrun and Kubeflow's PyTorchJob: RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT;</item>
/// <item>Kubeflow Trainer: PET_NODE_RANK, PET_NNODES, PET_MASTER_ADDR and PET_MASTER_PORT (one worker per node:
/// PET_NPROC_PER_NODE, if set, must be 1 or auto);</item>
/// <item>a Kubernetes Indexed Job: JOB_COMPLETION_INDEX, the rank;</item>
/// <item>mpiexec: OMPI_COMM_WORLD_RANK and _SIZE (Open MPI), or PMI_RANK and PMI_SIZE (MPICH).</item>
/// </list>
/// A flag overrides the environment. Two variables that give the rank (or the world size) must agree; the
/// address is taken from the first source only, since one server has many names.
/// </summary>
public static class LaunchContract
{
    private enum Field { Rank, WorldSize, Coordinator }

    /// <summary>A value one source gives, under the name it was given by (a flag or a variable), for messages.</summary>
    private sealed record Claim(Field Field, string Name, string Value, bool IsFlag = false)
    {
        public override string ToString() => IsFlag ? $"{Name} {Value}" : $"{Name}={Value}";
    }

    /// <summary>dtrain's own variables: the coordinator's address and the world size (and a rank, where the launcher numbers them).</summary>
    public const string Coordinator = "DTRAIN_COORDINATOR", WorldSize = "DTRAIN_WORLD_SIZE", Rank = "DTRAIN_RANK";

    /// <summary>Every variable this contract reads, so that a launcher can keep its own from its children.</summary>
    public static readonly IReadOnlyList<string> Variables =
    [
        Rank, WorldSize, Coordinator,
        "RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
        "PET_NODE_RANK", "PET_NNODES", "PET_MASTER_ADDR", "PET_MASTER_PORT", "PET_NPROC_PER_NODE",
        "JOB_COMPLETION_INDEX",
        "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "PMI_RANK", "PMI_SIZE",
    ];

    /// <param name="flags">What the command line gave; null where it gave nothing.</param>
    /// <param name="environment">The process's environment variables.</param>
    /// <param name="scheme">http, or https when the job runs TLS: the scheme of an address given as host and port.</param>
    /// <exception cref="UsageException">A value is malformed (the address not an http(s) URL), two sources disagree, the rank is not below the world
    /// size, or no source gives the coordinator's address.</exception>
    public static LaunchedWorker Resolve(
        (int? Rank, int? WorldSize, string? Coordinator) flags, IReadOnlyDictionary<string, string> environment, string scheme)
    {
        var claims = new List<Claim>();
        if (flags.Rank is { } rankFlag) claims.Add(new Claim(Field.Rank, "--rank", Text(rankFlag), IsFlag: true));
        if (flags.WorldSize is { } sizeFlag) claims.Add(new Claim(Field.WorldSize, "--world-size", Text(sizeFlag), IsFlag: true));
        if (flags.Coordinator is { } coordinatorFlag) claims.Add(new Claim(Field.Coordinator, "--coordinator", coordinatorFlag, IsFlag: true));
        claims.AddRange(FromEnvironment(environment, scheme));

        var rank = Winner(claims, Field.Rank, "a rank (a whole number from 0)", minimum: 0);
        var worldSize = Winner(claims, Field.WorldSize, "a number of workers (a whole number from 1)", minimum: 1);
        if (rank is { } r && worldSize is { } n && r.Value >= n.Value)
        {
            throw new UsageException($"{r.Claim} is not a rank of a job of {n.Claim} workers");
        }
        var coordinator = claims.FirstOrDefault(c => c.Field == Field.Coordinator)
            ?? throw new UsageException("the coordinator's address is missing: pass --coordinator, or set DTRAIN_COORDINATOR (or MASTER_ADDR and MASTER_PORT)");
        if (Endpoints.UrlProblem(coordinator.Name, coordinator.Value) is { } problem) throw new UsageException(problem);
        return new LaunchedWorker(rank?.Value, worldSize?.Value, coordinator.Value);
    }

    /// <summary>The environment's claims, in the order of precedence.</summary>
    private static IEnumerable<Claim> FromEnvironment(IReadOnlyDictionary<string, string> environment, string scheme)
    {
        string? Get(string name) => environment.TryGetValue(name, out string? value) && value.Length > 0 ? value : null;
        IEnumerable<Claim> Read(Field field, string name) => Get(name) is { } value ? [new Claim(field, name, value)] : [];
        IEnumerable<Claim> Address(string host, string port) => (Get(host), Get(port)) switch
        {
            (null, null) => [],
            ({ } h, { } p) => [new Claim(Field.Coordinator, $"{host}:{port}", $"{scheme}://{(h.Contains(':') ? $"[{h}]" : h)}:{p}")],
            (null, _) => throw new UsageException($"{port} is set but {host} is not"),
            (_, null) => throw new UsageException($"{host} is set but {port} is not"),
        };

        // PyTorchJob sets "auto" unless told otherwise; its WORLD_SIZE then counts pods, one worker each.
        if (Get("PET_NPROC_PER_NODE") is { } perNode && perNode is not ("1" or "auto"))
        {
            throw new UsageException($"PET_NPROC_PER_NODE={perNode}: dtrain runs one worker process per node (set it to 1, and one GPU per worker)");
        }
        var mpi = ReadMpi(environment);
        return
        [
            .. Read(Field.Rank, Rank), .. Read(Field.WorldSize, WorldSize), .. Read(Field.Coordinator, Coordinator),
            .. Read(Field.Rank, "RANK"), .. Read(Field.WorldSize, "WORLD_SIZE"), .. Address("MASTER_ADDR", "MASTER_PORT"),
            .. Read(Field.Rank, "PET_NODE_RANK"), .. Read(Field.WorldSize, "PET_NNODES"), .. Address("PET_MASTER_ADDR", "PET_MASTER_PORT"),
            .. Read(Field.Rank, "JOB_COMPLETION_INDEX"),
            .. mpi.Variables is { } names
                ? [new Claim(Field.Rank, names.Rank, Text(mpi.Rank)), new Claim(Field.WorldSize, names.Size, Text(mpi.Size))]
                : Array.Empty<Claim>(),
        ];
    }

    private static MpiEnvironment ReadMpi(IReadOnlyDictionary<string, string> environment)
    {
        try
        {
            return MpiEnvironment.Read(environment);
        }
        catch (MpiException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>The first claim of <paramref name="field"/>, checked against every other one of the environment.</summary>
    private static (int Value, Claim Claim)? Winner(List<Claim> claims, Field field, string meaning, int minimum)
    {
        var given = claims.Where(c => c.Field == field).Select(c => (Value: Parse(c, meaning, minimum), Claim: c)).ToList();
        if (given.Count == 0) return null;
        var fromEnvironment = given.Where(g => !g.Claim.IsFlag).ToList();
        if (fromEnvironment.FirstOrDefault(g => g.Value != fromEnvironment[0].Value) is { Claim: not null } other)
        {
            throw new UsageException($"{fromEnvironment[0].Claim} and {other.Claim} disagree");
        }
        return given[0];
    }

    private static int Parse(Claim claim, string meaning, int minimum) =>
        int.TryParse(claim.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= minimum
            ? value
            : throw new UsageException($"{claim} is not {meaning}");

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
