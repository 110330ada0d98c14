using StreamPersonalization.Core.Privacy.Minimisation;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class PiiDetectorTests
{
    [Theory]
    [InlineData("jane.doe@example.com")]
    [InlineData("Contact: J.Doe+news@mail.example.co.uk.")]
    [InlineData("<max_mustermann@müller-shop.de>")]
    [InlineData("a@b.io")]
    [InlineData("https://user@example.org/path")]
    public void Detect_EmailAddresses_AreEmail(string text) => Assert.Equal(PiiKind.Email, PiiDetector.Detect(text));

    [Theory]
    [InlineData("+49 30 1234567")]
    [InlineData("+1 (555) 123-4567")]
    [InlineData("+442079460958")]
    [InlineData("call 555-123-4567 after 6")]
    [InlineData("(555) 123-4567")]
    [InlineData("020 7946 0958")]
    [InlineData("030 12345678")]
    [InlineData("01 23 45 67 89")]
    [InlineData("01711234567")]
    [InlineData("0049 30 1234567")]
    [InlineData("tel:+4930123456")]
    public void Detect_PhoneNumbers_ArePhone(string text) => Assert.Equal(PiiKind.Phone, PiiDetector.Detect(text));

    [Theory]
    [InlineData("192.168.1.20")]
    [InlineData("client 10.0.0.1:8080 connected")]
    [InlineData("x-forwarded-for=203.0.113.7.")]
    [InlineData("2001:db8::ff00:42:8329")]
    [InlineData("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:443")]
    [InlineData("fe80::1%eth0")]
    [InlineData("::ffff:192.0.2.128")]
    public void Detect_IpAddresses_AreIp(string text) => Assert.Equal(PiiKind.IpAddress, PiiDetector.Detect(text));

    // Tricky values that look numeric or address-like but identify no one.
    [Theory]
    [InlineData("")]
    [InlineData("hello world")]
    [InlineData("@username")]                               // handle without local part
    [InlineData("admin@localhost")]                          // no dot in the domain
    [InlineData("icon@2x.png")]                              // retina asset name
    [InlineData("images/logo@3x.webp")]
    [InlineData("2026-03-01")]                               // ISO date
    [InlineData("2026-03-01 12:30:45")]                      // date-time: 10 digits but a date
    [InlineData("01.02.2026 10:00")]                         // European date-time
    [InlineData("2026-03-01T12:00:00.123Z")]
    [InlineData("12:30:45")]                                 // time, not IPv6
    [InlineData("ratio 16:9")]
    [InlineData("1234567.89")]                               // price / decimal
    [InlineData("1,299.99 EUR")]
    [InlineData("1767225600")]                               // epoch seconds
    [InlineData("1767225600123")]                            // epoch ms
    [InlineData("ORD-12345678")]                             // order id glued to a word
    [InlineData("SKU 12345-67890")]                          // two groups, no 0 prefix
    [InlineData("123e4567-e89b-12d3-a456-426614174000")]     // UUID
    [InlineData("v1.2.3.4")]                                 // version glued to a letter
    [InlineData("1.2.3.4.5")]                                // five groups
    [InlineData("256.1.1.1")]                                // octet out of range
    [InlineData("01.02.03.04")]                              // leading zeros
    [InlineData("version 10.2.1")]
    [InlineData("std::vector<int>")]
    [InlineData("dead::beef")]                               // hex words, no decimal digit
    [InlineData("00:1a:2b:3c:4d:5e")]                        // MAC-like, not a valid IPv6
    [InlineData("4111 1111 1111 1111")]                      // 16 digits: beyond E.164
    [InlineData("scores 10 20 30 40 50")]                    // short groups
    [InlineData("0000012345")]                               // zero-padded id
    [InlineData("+12.50")]                                   // signed amount
    public void Detect_TrickyNonPii_IsNone(string text) => Assert.Equal(PiiKind.None, PiiDetector.Detect(text));

    [Fact]
    public void Detect_SeveralKinds_ReportsEmailThenIpThenPhone()
    {
        Assert.Equal(PiiKind.Email, PiiDetector.Detect("ip 10.0.0.1, mail a@b.de, tel +49 30 1234567"));
        Assert.Equal(PiiKind.IpAddress, PiiDetector.Detect("ip 10.0.0.1, tel +49 30 1234567"));
    }
}
