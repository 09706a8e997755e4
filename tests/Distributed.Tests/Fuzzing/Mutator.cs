using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Json.Nodes;

namespace Dtrain.Tests.Fuzzing;

/// <summary>
/// Seeded mutations of a valid file, as a mutation fuzzer makes them: bytes flipped, overwritten with extreme
/// integers, inserted, deleted, duplicated or cut off; behind a checksum (<see cref="Sealed"/>), the same with the
/// checksum made right again, so the parser behind it sees them; in JSON and YAML, values of the wrong type or
/// extreme size, keys dropped or given twice, lines swapped or re-indented.
/// </summary>
internal sealed class Mutator(int seed)
{
    private static readonly long[] ExtremeIntegers = [0, 1, -1, 127, 128, 255, 0x7FFF, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 40, long.MaxValue, long.MinValue];

    private static readonly string[] ExtremeJson =
    [
        "null", "true", "\"\"", "\"text\"", "\"../../etc/passwd\"", "\"NaN\"", "-1", "0", "1.5", "2147483648", "-2147483649",
        "9223372036854775808", "1e308", "-1e308", "1e-320", "[]", "{}", "[1,2,3]", "{\"a\":1}", "[null]", "[{}]",
    ];

    private static readonly string[] ExtremeYaml =
    [
        "~", "x", "'text'", "\"\"", "-1", "0", "1.5", "1e999", "-1e999", ".nan", ".inf", "NaN", "Infinity", "2147483648",
        "99999999999999999999", "-9223372036854775809", "[1, 2]", "[]", "{a: 1}", "{}", "true", "!!binary aGk=", "!!str 5",
        "&anchor 3", "*anchor", "|\n  two\n  lines", "[[[[[[1]]]]]]", "0x10", "1_000", "'../../../etc/passwd'",
    ];

    private readonly Random random = new(seed);

    /// <summary>One to three byte-level mutations.</summary>
    public byte[] Bytes(byte[] valid)
    {
        var bytes = new List<byte>(valid);
        for (int n = random.Next(1, 4); n > 0; n--)
        {
            int at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2:
                    var extreme = new byte[8];
                    BinaryPrimitives.WriteInt64LittleEndian(extreme, ExtremeIntegers[random.Next(ExtremeIntegers.Length)]);
                    int width = random.Next(2) == 0 ? 4 : 8;
                    for (int i = 0; i < width && at + i < bytes.Count; i++) bytes[at + i] = extreme[i];
                    break;
                case 3:
                    var inserted = new byte[random.Next(1, 17)];
                    random.NextBytes(inserted);
                    bytes.InsertRange(at, inserted);
                    break;
                case 4:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 17), bytes.Count - at));
                    break;
                default:
                    int length = Math.Min(random.Next(1, 33), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
            }
        }
        return [.. bytes];
    }

    /// <summary>
    /// A <see cref="Dtrain.Contracts.Storage.ChecksummedFile"/> (8-byte magic, payload, XxHash64 of both) whose
    /// payload is mutated and whose checksum is then made to match again.
    /// </summary>
    public byte[] Sealed(byte[] valid)
    {
        var body = valid[..8].Concat(Bytes(valid[8..^8])).ToArray();
        var sealedFile = new byte[body.Length + 8];
        body.CopyTo(sealedFile, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(sealedFile.AsSpan(body.Length), XxHash64.HashToUInt64(body));
        return sealedFile;
    }

    /// <summary>A value replaced by one of another type or an extreme one, a property dropped or an element doubled; or, one time in four, bytes mutated.</summary>
    public string Json(string valid)
    {
        if (random.Next(4) == 0) return Text(valid);
        var root = JsonNode.Parse(valid)!;
        var nodes = Descendants(root).ToList();
        var target = nodes[random.Next(nodes.Count)];
        var replacement = JsonNode.Parse(ExtremeJson[random.Next(ExtremeJson.Length)]);
        switch (target.Parent)
        {
            case JsonObject parent when random.Next(4) == 0:
                parent.Remove(target.GetPropertyName());
                break;
            case JsonObject parent:
                parent[target.GetPropertyName()] = replacement;
                break;
            case JsonArray parent when random.Next(4) == 0:
                parent.Insert(target.GetElementIndex(), target.DeepClone());
                break;
            case JsonArray parent:
                parent[target.GetElementIndex()] = replacement;
                break;
        }
        return root.ToJsonString();
    }

    /// <summary>A value replaced by one of another type or an extreme one, a line doubled (its key given twice), dropped, swapped or re-indented, a second document; or, one time in four, bytes mutated.</summary>
    public string Yaml(string valid)
    {
        if (random.Next(4) == 0) return Text(valid);
        var lines = valid.Split('\n').ToList();
        int at = random.Next(lines.Count);
        switch (random.Next(6))
        {
            case 0 or 1 when lines[at].IndexOf(": ", StringComparison.Ordinal) is var colon and > 0:
                lines[at] = lines[at][..(colon + 2)] + ExtremeYaml[random.Next(ExtremeYaml.Length)];
                break;
            case 2:
                lines.Insert(at, lines[at]);
                break;
            case 3:
                lines.RemoveAt(at);
                break;
            case 4:
                (lines[at], lines[^1]) = (lines[^1], lines[at]);
                break;
            default:
                lines[at] = random.Next(3) switch { 0 => "  " + lines[at], 1 => lines[at].TrimStart(), _ => "---" };
                break;
        }
        return string.Join('\n', lines);
    }

    private string Text(string valid) => Encoding.UTF8.GetString(Bytes(Encoding.UTF8.GetBytes(valid)));

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        var children = node switch
        {
            JsonObject obj => obj.Select(property => property.Value),
            JsonArray array => array.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
        {
            yield return child;
            foreach (var grandchild in Descendants(child)) yield return grandchild;
        }
    }
}
