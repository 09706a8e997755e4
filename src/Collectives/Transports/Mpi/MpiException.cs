namespace Dtrain.Collectives.Transports.Mpi;

/// <summary>An MPI call failed, or the MPI library cannot serve this process (see the message).</summary>
public sealed class MpiException(string message) : CollectiveException(message)
{
    /// <summary>Throws when an MPI call did not return MPI_SUCCESS, with MPI's own description of the error.</summary>
    internal static unsafe void Check(int code, string call)
    {
        if (code == MpiNative.Success) return;
        byte* text = stackalloc byte[MpiNative.MaxErrorString];
        string description = MpiNative.ErrorString(code, text, out int length) == MpiNative.Success
            ? System.Text.Encoding.ASCII.GetString(text, length)
            : "no description";
        throw new MpiException($"{call} failed with MPI error {code}: {description}");
    }
}
