using System.Net;
using System.Net.Sockets;

namespace StreamPersonalization.Node.Tests.Support;

/// <summary>Free TCP ports on 127.0.0.1 for node processes that must be told their Akka remoting port up front.</summary>
internal static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
