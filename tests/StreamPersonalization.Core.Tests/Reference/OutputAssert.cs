namespace StreamPersonalization.Tests.Reference;

/// <summary>Compares per-user output sequences (reference vs engine) and names the first difference.</summary>
public static class OutputAssert
{
    public static void Same(Dictionary<string, List<string>> expected, Dictionary<string, List<string>> actual)
    {
        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (user, list) in expected)
        {
            var got = actual[user];
            for (var i = 0; i < Math.Max(list.Count, got.Count); i++)
            {
                var e = i < list.Count ? list[i] : "<none>";
                var a = i < got.Count ? got[i] : "<none>";
                Assert.True(e == a, $"user {user} output #{i}: expected '{e}' but the engine gave '{a}'");
            }
        }
    }
}
