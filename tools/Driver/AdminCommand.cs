using HttpSysLite.Transport.Service;

namespace HttpSysLite.Driver;

/// <summary>
/// One netsh-style verb run against the running driver over its socket: key=value arguments, then
/// --socket and --format. Prints the driver's answer; exits 1 with its reason when the driver refused.
/// </summary>
internal static class AdminCommand
{
    public static async Task<int> RunAsync(string verb, string[] args)
    {
        string socket = Environment.GetEnvironmentVariable("HTTPSYSLITE_DRIVER") is { Length: > 0 } fromEnvironment ? fromEnvironment : DriverHost.DefaultSocket;
        bool json = false;
        var arguments = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "--socket" or "--format" && i + 1 < args.Length)
            {
                if (arg == "--socket")
                {
                    socket = args[++i];
                }
                else
                {
                    json = args[++i] == "json";
                }
                continue;
            }
            int equals = arg.IndexOf('=');
            if (equals <= 0)
            {
                Console.Error.WriteLine($"'{arg}' is not key=value (for example url=http://+:80/app/ or user=alice).");
                return 2;
            }
            arguments[arg[..equals]] = arg[(equals + 1)..];
        }
        ControlReply reply;
        try
        {
            reply = await DriverControlClient.SendAsync(socket, new ControlRequest { Verb = verb, Arguments = arguments });
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 1;
        }
        if (reply.Error is not null)
        {
            Console.Error.WriteLine(reply.Error);
            return 1;
        }
        Console.WriteLine(json ? reply.Data?.ToJsonString(new System.Text.Json.JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // http://+:80/ as typed
        }) ?? "null" : reply.Text);
        return 0;
    }
}
