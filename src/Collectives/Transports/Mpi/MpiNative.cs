using System.Runtime.InteropServices;

namespace Dtrain.Collectives.Transports.Mpi;

/// <summary>
/// The few MPICH entry points the MPI transport uses, bound with P/Invoke to libmpich.so.12 (Debian's `libmpich12`).
/// MPICH's handles (communicators, datatypes, operations, requests) are plain ints; the constants below are copied
/// from the installed /usr/include/x86_64-linux-gnu/mpich/mpi.h of MPICH 4.0.2 and are part of MPICH's ABI.
/// </summary>
internal static unsafe partial class MpiNative
{
    private const string Library = "libmpich.so.12";

    public const int Success = 0;
    public const int ThreadMultiple = 3;
    public const int CommWorld = 0x44000000;
    public const int ErrorsReturn = 0x54000001;
    public const int TagUpperBoundKey = 0x64400001;
    public const int Byte = 0x4c00010d;
    public const int Float = 0x4c00040a;
    public const int Double = 0x4c00080b;
    public const int Int64 = 0x4c00083a;
    public const int Max = 0x58000001;
    public const int Min = 0x58000002;
    public const int Sum = 0x58000003;
    public const int MaxErrorString = 512;

    /// <summary>MPI_IN_PLACE is (void*)-1 in MPICH.</summary>
    public static readonly void* InPlace = (void*)-1;

    /// <summary>MPICH's MPI_Status: count_lo, count_hi_and_cancelled, MPI_SOURCE, MPI_TAG, MPI_ERROR.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Status
    {
        public int CountLow;
        public int CountHighAndCancelled;
        public int Source;
        public int Tag;
        public int Error;
    }

    [LibraryImport(Library, EntryPoint = "MPI_Init_thread")]
    public static partial int InitThread(int* argc, byte*** argv, int required, out int provided);

    [LibraryImport(Library, EntryPoint = "MPI_Abort")]
    public static partial int Abort(int comm, int errorCode);

    [LibraryImport(Library, EntryPoint = "MPI_Finalize")]
    public static partial int Finalize();

    [LibraryImport(Library, EntryPoint = "MPI_Comm_set_errhandler")]
    public static partial int CommSetErrhandler(int comm, int errhandler);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_get_attr")]
    public static partial int CommGetAttr(int comm, int key, out int* value, out int flag);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_rank")]
    public static partial int CommRank(int comm, out int rank);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_size")]
    public static partial int CommSize(int comm, out int size);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_dup")]
    public static partial int CommDup(int comm, out int newComm);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_group")]
    public static partial int CommGroup(int comm, out int group);

    [LibraryImport(Library, EntryPoint = "MPI_Group_incl")]
    public static partial int GroupIncl(int group, int count, int[] ranks, out int newGroup);

    [LibraryImport(Library, EntryPoint = "MPI_Group_free")]
    public static partial int GroupFree(ref int group);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_create_group")]
    public static partial int CommCreateGroup(int comm, int group, int tag, out int newComm);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_free")]
    public static partial int CommFree(ref int comm);

    [LibraryImport(Library, EntryPoint = "MPI_Isend")]
    public static partial int Isend(void* buffer, int count, int datatype, int destination, int tag, int comm, out int request);

    [LibraryImport(Library, EntryPoint = "MPI_Irecv")]
    public static partial int Irecv(void* buffer, int count, int datatype, int source, int tag, int comm, out int request);

    [LibraryImport(Library, EntryPoint = "MPI_Test")]
    public static partial int Test(ref int request, out int completed, out Status status);

    [LibraryImport(Library, EntryPoint = "MPI_Cancel")]
    public static partial int Cancel(ref int request);

    [LibraryImport(Library, EntryPoint = "MPI_Test_cancelled")]
    public static partial int TestCancelled(in Status status, out int cancelled);

    [LibraryImport(Library, EntryPoint = "MPI_Allreduce")]
    public static partial int Allreduce(void* sendBuffer, void* receiveBuffer, int count, int datatype, int op, int comm);

    [LibraryImport(Library, EntryPoint = "MPI_Error_string")]
    public static partial int ErrorString(int code, byte* text, out int length);

    /// <summary>libc's setenv: .NET's Environment.SetEnvironmentVariable does not change the native environment on Linux.</summary>
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetNativeEnvironmentVariable(string name, string value, int overwrite);
}
