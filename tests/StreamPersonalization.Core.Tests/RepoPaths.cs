namespace StreamPersonalization.Tests;

/// <summary>Finds the repository root (the directory holding StreamPersonalization.sln) from the test's output folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "StreamPersonalization.sln"))) return dir.FullName;
        throw new InvalidOperationException("StreamPersonalization.sln not found above " + AppContext.BaseDirectory);
    }
}
