using Dtrain.Contracts;

namespace Dtrain.Graph.Service;

/// <summary>A remote partition did not answer: its worker is gone, or hangs.</summary>
public sealed class PartitionUnreachableException(string message) : PeerUnreachableException(message);
