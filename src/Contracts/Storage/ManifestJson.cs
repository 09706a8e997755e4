using System.Globalization;
using System.Text.Json;

namespace Dtrain.Contracts.Storage;

/// <summary>
/// The JSON manifests that index dtrain's checksummed files (partitioned graphs, checkpoints): snake_case,
/// indented for people, written to a temporary file, flushed to disk and renamed, so a manifest is either the old
/// one or the whole new one. A manifest names each file by its XxHash64 in <see cref="Hex"/> form.
/// </summary>
public static class ManifestJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectNullableAnnotations = true,
        WriteIndented = true,
    };

    public static void WriteAtomically<T>(string path, T manifest)
    {
        string temporary = $"{path}.tmp-{Environment.ProcessId}";
        try
        {
            using (var stream = File.Create(temporary))
            {
                JsonSerializer.Serialize(stream, manifest, Options);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            // A full disk leaves no half-written file behind; the old manifest, if any, is untouched.
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>A file checksum as manifests record it.</summary>
    public static string Hex(ulong checksum) => checksum.ToString("x16", CultureInfo.InvariantCulture);
}
