using System.Diagnostics;
using System.Globalization;

namespace Dtrain.TransportCeiling;

/// <summary>
/// Lets the two ranks learn each other's listening port through files in a folder they share, so each can
/// listen on a free port (port 0) without a race between picking a port and binding it.
/// </summary>
sealed class Rendezvous(string folder, string rank, string peer)
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public async Task<int> ExchangePortsAsync(int myPort)
    {
        string mine = Path.Combine(folder, rank + ".port"), theirs = Path.Combine(folder, peer + ".port");
        File.WriteAllText(mine + ".tmp", myPort.ToString(CultureInfo.InvariantCulture));
        File.Move(mine + ".tmp", mine); // a rename, so the peer never reads a half-written file
        var waited = Stopwatch.StartNew();
        while (!File.Exists(theirs))
        {
            if (waited.Elapsed > Patience)
                throw new TimeoutException($"rank {peer} did not write its port to {theirs} within {Patience.TotalSeconds} s");
            await Task.Delay(10);
        }
        return int.Parse(File.ReadAllText(theirs), CultureInfo.InvariantCulture);
    }
}
