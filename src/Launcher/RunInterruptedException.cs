using Dtrain.Contracts;

namespace Dtrain.Launcher;

/// <summary>A signal stopped the command after it cleaned up; the message says what was kept and how to go on.</summary>
public sealed class RunInterruptedException(string message) : DtrainException(message);
