using System.IO.Compression;
using Dtrain.Contracts.Storage;

namespace Dtrain.Models.Data;

/// <summary>Opens a data file for the loaders: a name ending .gz is read through gzip, whatever the format.</summary>
internal static class DataFile
{
    /// <summary>
    /// Runs <paramref name="read"/> on the file's (decompressed) bytes. A missing file and corrupt gzip data become
    /// <see cref="DataFormatException"/>s, so every loader reports them alike.
    /// </summary>
    public static T Read<T>(string path, Func<Stream, T> read)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "no such file");
        using var file = File.OpenRead(path);
        using var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionMode.Decompress)
            : (Stream)file;
        try
        {
            return read(stream);
        }
        catch (InvalidDataException e)
        {
            // Only GZipStream throws this here: the loaders report their own format errors as DataFormatException.
            throw new DataFormatException(path, $"is not valid gzip data ({e.Message})");
        }
    }
}
