namespace Dtrain.Distributed;

/// <summary>A worker's place in one membership epoch of the job: its id there, its rank and the world's size.</summary>
public sealed record Epoch(long Number, string WorkerId, int Rank, int WorldSize);
