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

    public string[] ProductPages { get; } = new string[ProductCount];
    public string[] Skus { get; } = new string[ProductCount];
    public decimal[] Prices { get; } = new decimal[ProductCount];
    public string[] CategoryPages { get; } = new string[CategoryCount];
    public string[] Videos { get; } = new string[VideoCount];

    public ProductCatalog(DeterministicRandom rng)
    {
        for (int i = 0; i < ProductCount; i++)
        {
            ProductPages[i] = "/p/" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Skus[i] = "sku-" + (i + 1).ToString("D5", System.Globalization.CultureInfo.InvariantCulture);
            // Log-normal prices around 30 with a long tail; never below 0.99 so purchase values are positive.
            double price = Math.Exp(Math.Log(30) + 0.9 * rng.StandardNormal());
            Prices[i] = Math.Max(0.99m, Math.Round((decimal)Math.Min(price, 5_000), 2));
        }
        for (int i = 0; i < CategoryCount; i++)
            CategoryPages[i] = "/c/" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int i = 0; i < VideoCount; i++)
            Videos[i] = "v-" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

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
