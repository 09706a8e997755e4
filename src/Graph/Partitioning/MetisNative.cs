using System.Runtime.InteropServices;

namespace Dtrain.Graph.Partitioning;

/// <summary>
/// The two METIS entry points the partitioner uses, bound with P/Invoke to libmetis.so.5 (Debian's `libmetis5`).
/// Debian builds METIS 5.1 with 32-bit idx_t and real_t; the constants are copied from its /usr/include/metis.h.
/// </summary>
internal static unsafe partial class MetisNative
{
    private const string Library = "libmetis.so.5";

    public const int Ok = 1;
    public const int ErrorInput = -2;
    public const int ErrorMemory = -3;
    public const int OptionCount = 40;
    public const int OptionSeed = 8;

    [LibraryImport(Library, EntryPoint = "METIS_SetDefaultOptions")]
    public static partial int SetDefaultOptions(int* options);

    [LibraryImport(Library, EntryPoint = "METIS_PartGraphKway")]
    public static partial int PartGraphKway(int* vertexCount, int* constraintCount, int* adjacencyOffsets, int* adjacency,
        int* vertexWeights, int* vertexSizes, int* edgeWeights, int* partCount, float* targetWeights, float* imbalance,
        int* options, int* edgeCut, int* part);
}
