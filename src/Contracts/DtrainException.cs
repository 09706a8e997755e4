namespace Dtrain.Contracts;

/// <summary>
/// An expected failure whose message is written for the user (bad input, an unreachable peer, a failed job):
/// the launcher prints it as one line, without a stack trace.
/// </summary>
public class DtrainException(string message, Exception? inner = null) : Exception(message, inner);
