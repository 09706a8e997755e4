using Dtrain.Contracts;

namespace Dtrain.Contracts.Storage;

/// <summary>
/// A data file that cannot be read as asked: one line naming the file, where in it (line, field or byte offset)
/// and what is wrong, e.g. "digits.csv: line 17 has 5 fields, the header has 6".
/// </summary>
public sealed class DataFormatException(string path, string problem) : DtrainException($"{path}: {problem}");
