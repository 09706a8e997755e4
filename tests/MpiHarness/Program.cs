// One rank of the MPI conformance job: mpiexec.mpich -n N dotnet Dtrain.MpiHarness.dll
// Runs every collective over the MPI transport and checks this rank's results (see Report for the output);
// exits with 1 if any check failed. Checks that need a peer (send/recv, mismatch, timeout) run from 2 ranks on.
using Dtrain.Collectives;
using Dtrain.Collectives.Transports.Mpi;
using Dtrain.MpiHarness;
using Dtrain.Tests.Collectives;

var options = new CommunicatorOptions { Timeout = TimeSpan.FromSeconds(20) };
// Disposed in reverse order; the last one (ring) finalises MPI.
await using var ring = MpiCommunicator.CreateWorld(options with { AllReduceAlgorithm = AllReduceAlgorithm.Ring });
await using var doubling = MpiCommunicator.CreateWorld(options with { AllReduceAlgorithm = AllReduceAlgorithm.RecursiveDoubling });
await using var impatient = MpiCommunicator.CreateWorld(new CommunicatorOptions { Timeout = TimeSpan.FromMilliseconds(500) });

var checks = new List<(string, Func<Task>)>
{
    ("a NullReferenceException after MPI_Init is caught", TransportChecks.NullReferenceIsAnException),
    ("PMI_RANK and PMI_SIZE match MPI", () => TransportChecks.EnvironmentMatchesMpi(ring)),
};
foreach (var world in new[] { ring, doubling })
{
    string algorithm = world.Options.AllReduceAlgorithm!.Value.ToString().ToLowerInvariant();
    foreach (var op in Enum.GetValues<ReduceOp>())
    {
        checks.Add(($"all_reduce {algorithm} float32 {op}", () => RankChecks.AllReduce<float>(world, op, 1, RankChecks.Lengths)));
        checks.Add(($"all_reduce {algorithm} bfloat16 {op}", () => RankChecks.AllReduce<BFloat16>(world, op, 2, RankChecks.Lengths)));
        checks.Add(($"all_reduce {algorithm} float64 {op}", () => RankChecks.AllReduce<double>(world, op, 3, RankChecks.Lengths)));
        if (op != ReduceOp.Average)
        {
            checks.Add(($"all_reduce {algorithm} int64 {op}", () => RankChecks.AllReduce<long>(world, op, 4, RankChecks.Lengths)));
        }
    }
    checks.Add(($"split {algorithm} by parity, all_reduce in each sub-group", () => RankChecks.SplitAndReduceInSubgroups(world, 5)));
}
checks.AddRange(
[
    // Large enough for MPI's rendezvous protocol rather than eager sends.
    ("all_reduce ring float32 Sum of 300001 elements", () => RankChecks.AllReduce<float>(ring, ReduceOp.Sum, 6, 300_001)),
    ("all_gather float32", () => RankChecks.AllGather<float>(ring, 7)),
    ("all_gather bfloat16", () => RankChecks.AllGather<BFloat16>(ring, 8)),
    ("all_gather variable sizes int64", () => RankChecks.AllGatherVariable<long>(ring, 9)),
]);
foreach (var op in Enum.GetValues<ReduceOp>())
{
    checks.Add(($"reduce_scatter float32 {op}", () => RankChecks.ReduceScatter<float>(ring, op, 10)));
}
checks.AddRange(
[
    ("reduce_scatter int64 Sum", () => RankChecks.ReduceScatter<long>(ring, ReduceOp.Sum, 11)),
    ("reduce_scatter bfloat16 Average", () => RankChecks.ReduceScatter<BFloat16>(ring, ReduceOp.Average, 12)),
    ("broadcast float64 from every root", () => RankChecks.BroadcastFromEveryRoot<double>(ring, 13)),
    ("reduce float32 Sum to every root", () => RankChecks.ReduceToEveryRoot<float>(ring, ReduceOp.Sum, 14)),
    ("reduce bfloat16 Average to every root", () => RankChecks.ReduceToEveryRoot<BFloat16>(ring, ReduceOp.Average, 15)),
    ("reduce int64 Max to every root", () => RankChecks.ReduceToEveryRoot<long>(ring, ReduceOp.Max, 16)),
    ("barrier", () => RankChecks.Barrier(ring)),
]);
foreach (var op in Enum.GetValues<ReduceOp>())
{
    checks.Add(($"MPI_Allreduce float32 {op} against the ring", () => TransportChecks.NativeAllReduce<float>(ring, op, 17)));
}
checks.AddRange(
[
    ("MPI_Allreduce float64 Sum against the ring", () => TransportChecks.NativeAllReduce<double>(ring, ReduceOp.Sum, 18)),
    ("MPI_Allreduce int64 Sum against the ring", () => TransportChecks.NativeAllReduce<long>(ring, ReduceOp.Sum, 19)),
]);
if (ring.Size > 1)
{
    checks.AddRange(
    [
        ("send/recv to the right neighbour", () => RankChecks.SendReceive(ring, 20)),
        ("mismatch: rank 0 float32, rank 1 float64", () => TransportChecks.Mismatch(ring)),
        ("mismatch of rendezvous-sized buffers fails on both ranks", () => TransportChecks.MismatchOfLargeBuffers(ring)),
        ("timeout and cancellation", () => TransportChecks.TimeoutAndCancellation(impatient, ring)),
    ]);
}
checks.Add(("the world still works afterwards", () => RankChecks.AllReduce<float>(ring, ReduceOp.Sum, 21, 1000)));

var report = new Report(ring.Rank, ring.Size);
await report.RunAsync(checks);
return report.Succeeded ? 0 : 1;
