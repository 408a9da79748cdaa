using System.Diagnostics;

namespace HttpSysLite.Trace;

/// <summary>Says clearly, before attaching, when a pid is wrong or its process does not host HttpSysLite.</summary>
internal static class ProcessCheck
{
    /// <summary>Null when <paramref name="pid"/> is a live process that loaded HttpSysLite.Transport, else the reason it is not.</summary>
    public static string? Problem(int pid)
    {
        Process process;
        try
        {
            process = Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return $"No process has id {pid}.";
        }
        using (process)
        {
            string name = SafeName(process);
            if (!LoadsTransport(pid, process))
            {
                return $"Process {pid} ({name}) does not host HttpSysLite: HttpSysLite.Transport.dll is not loaded in it.";
            }
        }
        return null;
    }

    private static bool LoadsTransport(int pid, Process process)
    {
        const string Assembly = "HttpSysLite.Transport.dll";
        string maps = $"/proc/{pid}/maps";
        if (File.Exists(maps))
        {
            // Managed assemblies are mapped files on Linux; this works for processes of other users we may read.
            try
            {
                return File.ReadLines(maps).Any(static line => line.EndsWith(Assembly, StringComparison.Ordinal));
            }
            catch (UnauthorizedAccessException)
            {
                return true; // cannot tell: let EventPipe try
            }
        }
        try
        {
            return process.Modules.Cast<ProcessModule>().Any(static m => string.Equals(m.ModuleName, Assembly, StringComparison.OrdinalIgnoreCase));
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return true;
        }
    }

    private static string SafeName(Process process)
    {
        try
        {
            return process.ProcessName;
        }
        catch (InvalidOperationException)
        {
            return "exited";
        }
    }
}
