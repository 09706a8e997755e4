namespace Dtrain.Contracts;

/// <summary>A service of another rank did not answer: its worker is gone, or hangs. The epoch cannot go on without it.</summary>
public class PeerUnreachableException(string message) : DtrainException(message);
