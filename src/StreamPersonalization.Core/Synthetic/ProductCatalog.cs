using System.Globalization;
using System.Text.Json;

namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// Fixed catalogue of products and categories with precomputed page paths, SKUs and prices, so the
/// hot path picks strings instead of formatting them, and popularity is skewed like real shops.
/// </summary>
internal sealed class ProductCatalog
{
    public const int ProductCount = 2_000;
    public const int CategoryCount = 40;
    public const int VideoCount = 200;

    public JsonEncodedText[] ProductPages { get; } = new JsonEncodedText[ProductCount];
    public JsonEncodedText[] Skus { get; } = new JsonEncodedText[ProductCount];
    public decimal[] Prices { get; } = new decimal[ProductCount];
    public JsonEncodedText[] CategoryPages { get; } = new JsonEncodedText[CategoryCount];
    public JsonEncodedText[] Videos { get; } = new JsonEncodedText[VideoCount];

    public ProductCatalog(DeterministicRandom rng)
    {
        for (int i = 0; i < ProductCount; i++)
        {
            ProductPages[i] = Encode("/p/", i + 1);
            Skus[i] = JsonEncodedText.Encode("sku-" + (i + 1).ToString("D5", CultureInfo.InvariantCulture));
            // Log-normal prices around 30 with a long tail; never below 0.99 so purchase values are positive.
            double price = Math.Exp(Math.Log(30) + 0.9 * rng.StandardNormal());
            Prices[i] = Math.Max(0.99m, Math.Round((decimal)Math.Min(price, 5_000), 2));
        }
        for (int i = 0; i < CategoryCount; i++)
            CategoryPages[i] = Encode("/c/", i + 1);
        for (int i = 0; i < VideoCount; i++)
            Videos[i] = Encode("v-", i + 1);
    }

    private static JsonEncodedText Encode(string prefix, int number) =>
        JsonEncodedText.Encode(prefix + number.ToString(CultureInfo.InvariantCulture));

    /// <summary>Popularity-skewed product index (power of a uniform: low indices are hot).</summary>
    public static int PickProduct(DeterministicRandom rng)
    {
        double u = rng.NextDouble();
        return (int)(ProductCount * u * u * u);
    }

    public static int PickCategory(DeterministicRandom rng)
    {
        double u = rng.NextDouble();
        return (int)(CategoryCount * u * u);
    }
}
