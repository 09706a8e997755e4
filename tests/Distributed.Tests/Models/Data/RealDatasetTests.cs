using Dtrain.Models.Data;

namespace Dtrain.Tests.Models.Data;

/// <summary>The loaders on the real datasets that scripts/fetch-datasets.sh takes from Debian packages.</summary>
public class RealDatasetTests
{
    [DatasetFact("digits.csv.gz")]
    public void Digits_are_1797_images_of_64_pixels_from_0_to_16_labelled_0_to_9()
    {
        var digits = CsvTable.Read(Datasets.PathOf("digits.csv.gz"));

        Assert.Equal((1797, 64, 10), (digits.Rows, digits.Features, digits.Classes));
        Assert.Null(digits.FeatureNames);
        Assert.Equal(Enumerable.Range(0, 10).Select(label => (long)label), digits.Labels.ToArray().Distinct().Order());
        Assert.All(digits.FeatureValues.ToArray(), pixel => Assert.InRange(pixel, 0f, 16f));
    }

    /// <summary>
    /// Measured on bookworm's fortunes 1:1.99.1-7.3: 40 files, 2,478,275 bytes, held-out unigram entropy 3.338
    /// nats per byte (the training part's own entropy is 3.320). The range allows for another release's fortunes.
    /// </summary>
    [DatasetFact("fortunes")]
    public void Fortunes_are_megabytes_of_text_whose_unigram_entropy_is_about_3_3_nats_per_byte()
    {
        var corpus = TextCorpus.Read(Datasets.PathOf("fortunes"), heldOutFraction: 0.1);

        Assert.InRange(corpus.Train.Length + corpus.HeldOut.Length, 1_000_000, int.MaxValue);
        Assert.InRange(corpus.UnigramEntropy(), 3.2, 3.5);
    }
}
