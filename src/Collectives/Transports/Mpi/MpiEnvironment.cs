using System.Globalization;
using Dtrain.Contracts.Network;

namespace Dtrain.Collectives.Transports.Mpi;

/// <summary>
/// Whether this process was started by an MPI launcher, and as which rank, read from the variables the launcher
/// sets: OMPI_COMM_WORLD_RANK / OMPI_COMM_WORLD_SIZE (Open MPI's mpirun) or PMI_RANK / PMI_SIZE (MPICH's Hydra
/// mpiexec). Reading them needs no MPI library, so a program can choose its transport before loading one.
/// </summary>
public sealed record MpiEnvironment(string? Launcher, int Rank, int Size)
{
    private static readonly (string Launcher, string Rank, string Size)[] Conventions =
    [
        ("openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
        ("hydra", "PMI_RANK", "PMI_SIZE"),
    ];

    /// <summary>Not started by an MPI launcher: a single process, rank 0 of 1.</summary>
    public static readonly MpiEnvironment None = new(null, 0, 1);

    public bool IsLaunchedByMpi => Launcher is not null;

    /// <summary>The variables this launcher gives the rank and the size in, for messages; null when not launched by MPI.</summary>
    public (string Rank, string Size)? Variables =>
        Conventions.Where(c => c.Launcher == Launcher).Select(c => ((string, string)?)(c.Rank, c.Size)).FirstOrDefault();

    /// <summary>This process's environment.</summary>
    public static MpiEnvironment Current => Read(ProcessEnvironment.Variables());

    /// <summary>
    /// The launcher whose rank and size variables are both set (Open MPI's first), or <see cref="None"/>.
    /// Variables that are set but do not name a rank of the size fail with a <see cref="MpiException"/>.
    /// </summary>
    public static MpiEnvironment Read(IReadOnlyDictionary<string, string> variables)
    {
        foreach (var (launcher, rankName, sizeName) in Conventions)
        {
            if (!variables.TryGetValue(rankName, out string? rankText) || !variables.TryGetValue(sizeName, out string? sizeText))
            {
                continue;
            }
            if (!int.TryParse(rankText, NumberStyles.None, CultureInfo.InvariantCulture, out int rank)
                || !int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out int size)
                || size < 1 || rank >= size)
            {
                throw new MpiException($"{rankName}={rankText} and {sizeName}={sizeText} do not name a rank of a job of that size");
            }
            return new MpiEnvironment(launcher, rank, size);
        }
        return None;
    }
}
