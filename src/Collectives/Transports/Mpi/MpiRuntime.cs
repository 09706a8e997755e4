namespace Dtrain.Collectives.Transports.Mpi;

/// <summary>
/// MPI's process-wide life: initialised (MPI_THREAD_MULTIPLE) when the first world communicator is created,
/// finalised when the last one is disposed. MPI cannot be initialised twice in a process, so after that no world
/// communicator can be created again.
/// </summary>
internal static class MpiRuntime
{
    private static readonly Lock Gate = new();
    private static int openWorlds;
    private static bool finalized;

    /// <summary>The largest tag this MPI library accepts (MPI_TAG_UB; at least 32767).</summary>
    public static int TagUpperBound { get; private set; }

    public static void Acquire()
    {
        lock (Gate)
        {
            if (finalized)
            {
                throw new MpiException("MPI was finalised when the last world communicator was disposed; it cannot be initialised again in this process");
            }
            if (openWorlds == 0)
            {
                Initialize();
            }
            openWorlds++;
        }
    }

    public static void Release()
    {
        lock (Gate)
        {
            if (--openWorlds == 0)
            {
                finalized = true;
                MpiException.Check(MpiNative.Finalize(), "MPI_Finalize");
            }
        }
    }

    private static unsafe void Initialize()
    {
        // UCX (MPICH's ch4:ucx device on Debian) installs a SIGSEGV handler that kills the process on the first
        // NullReferenceException, which .NET raises through SIGSEGV. An empty signal list keeps UCX's hands off,
        // and overrides any list the user set: no SIGSEGV handler but .NET's can work in a .NET process. It must
        // be in the native environment before MPI_Init loads UCX, hence libc's setenv.
        if (MpiNative.SetNativeEnvironmentVariable("UCX_ERROR_SIGNALS", "", overwrite: 1) != 0)
        {
            throw new MpiException("could not set UCX_ERROR_SIGNALS in the native environment");
        }
        MpiException.Check(MpiNative.InitThread(null, null, MpiNative.ThreadMultiple, out int provided), "MPI_Init_thread");
        if (provided < MpiNative.ThreadMultiple)
        {
            finalized = true;
            MpiNative.Finalize();
            throw new MpiException(
                $"the MPI library provides thread level {provided}, but the MPI transport needs MPI_THREAD_MULTIPLE ({MpiNative.ThreadMultiple}): " +
                "sends and receives are polled from any thread-pool thread");
        }
        // Errors come back as return codes (and become MpiException) instead of aborting the job.
        MpiException.Check(MpiNative.CommSetErrhandler(MpiNative.CommWorld, MpiNative.ErrorsReturn), "MPI_Comm_set_errhandler");
        MpiException.Check(MpiNative.CommGetAttr(MpiNative.CommWorld, MpiNative.TagUpperBoundKey, out int* tagUpperBound, out int found), "MPI_Comm_get_attr");
        TagUpperBound = found != 0 ? *tagUpperBound : short.MaxValue;
    }
}
