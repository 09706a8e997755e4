using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Dtrain.Contracts;

namespace Dtrain.Contracts.Storage;

/// <summary>
/// The container of dtrain's binary graph files: an 8-byte magic naming the kind and version, the payload, and an
/// XxHash64 of both. Written to a temporary file, flushed to disk and renamed, so a reader sees the old file or
/// the whole new one; read whole and verified before any field is parsed, so corruption is an error, never data.
/// </summary>
public static class ChecksummedFile
{
    private const int MagicLength = 8, HashLength = 8;

    /// <returns>The checksum written, so an index of files (a partition manifest) can name the exact version.</returns>
    public static ulong Write(string path, string magic, Action<BinaryWriter> writePayload)
    {
        var magicBytes = MagicBytes(magic);
        string temporary = $"{path}.tmp-{Environment.ProcessId}";
        try
        {
            ulong checksum;
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var hash = new XxHash64();
                using (var hashing = new HashingStream(file, hash))
                using (var writer = new BinaryWriter(hashing, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    writer.Write(magicBytes);
                    writePayload(writer);
                }
                // Stored little-endian like every other number in the file (GetCurrentHash's bytes are big-endian).
                checksum = hash.GetCurrentHashAsUInt64();
                Span<byte> stored = stackalloc byte[HashLength];
                BinaryPrimitives.WriteUInt64LittleEndian(stored, checksum);
                file.Write(stored);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
            return checksum;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>The verified payload of <paramref name="path"/>; a <see cref="DtrainException"/> naming the file when it is not one.</summary>
    public static BinaryReader Read(string path, string magic, string kind) => Read(path, magic, kind, out _);

    /// <inheritdoc cref="Read(string, string, string)"/>
    public static BinaryReader Read(string path, string magic, string kind, out ulong checksum)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DtrainException($"cannot read {kind} {path}: {e.Message}");
        }
        if (bytes.Length < MagicLength + HashLength || !bytes.AsSpan(0, MagicLength).SequenceEqual(MagicBytes(magic)))
        {
            throw new DtrainException($"{path} is not a {kind} (expected it to start with '{magic}')");
        }
        var body = bytes.AsSpan(0, bytes.Length - HashLength);
        checksum = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(body.Length));
        if (XxHash64.HashToUInt64(body) != checksum)
        {
            throw new DtrainException($"{kind} {path} is corrupted: its checksum does not match its contents");
        }
        return new BinaryReader(new MemoryStream(bytes, MagicLength, body.Length - MagicLength, writable: false));
    }

    private static byte[] MagicBytes(string magic)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(magic);
        if (bytes.Length != MagicLength) throw new ArgumentException($"a magic has {MagicLength} ASCII characters: '{magic}'");
        return bytes;
    }

    /// <summary>Passes writes through to the file and into the hash.</summary>
    private sealed class HashingStream(Stream inner, NonCryptographicHashAlgorithm hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.Append(buffer);
            inner.Write(buffer);
        }
    }
}

/// <summary>Length-prefixed arrays of unmanaged values in a <see cref="ChecksummedFile"/> payload.</summary>
public static class BinaryArrays
{
    public static void WriteArray<T>(this BinaryWriter writer, ReadOnlySpan<T> values) where T : unmanaged
    {
        writer.Write((long)values.Length);
        writer.Write(MemoryMarshal.AsBytes(values));
    }

    public static T[] ReadArray<T>(this BinaryReader reader, string what) where T : unmanaged
    {
        long length = reader.ReadInt64();
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        long remaining = reader.BaseStream.Length - reader.BaseStream.Position;
        if (length < 0 || length > remaining / size) throw new InvalidDataException($"{what}: length {length} does not fit the file");
        var values = new T[length];
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }
}
