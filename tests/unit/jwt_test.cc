// Browser JWT verification (server/auth/jwt): what a token must be for sigd
// to let a client in, and what it says about the paths the client may use.
#include "server/auth/jwt.h"

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/jwt_mint.h"
#include "tests/support/temp_dir.h"

namespace sigd::auth {
namespace {

using nlohmann::json;
using testing::MintHs256;
using testing::MintRs256;
using testing::NowPlus;
using testing::RsaKey;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-first";
constexpr char kOtherSecret[] = "fedcba9876543210fedcba9876543210-second";

std::unique_ptr<JwtVerifier> HmacVerifier(JwtVerifier::Options options = {}) {
  auto v = std::make_unique<JwtVerifier>(std::move(options));
  absl::StatusOr<std::shared_ptr<const JwtKeySet>> keys = JwtKeySet::FromText(kSecret, "");
  EXPECT_TRUE(keys.ok()) << keys.status();
  v->SetKeys(*keys);
  return v;
}

// One RSA key for the whole file: generating one takes a while.
const RsaKey& TestRsaKey() {
  static const RsaKey* key = new RsaKey(RsaKey::Generate());
  return *key;
}

std::unique_ptr<JwtVerifier> RsaVerifier() {
  auto v = std::make_unique<JwtVerifier>(JwtVerifier::Options{});
  absl::StatusOr<std::shared_ptr<const JwtKeySet>> keys =
      JwtKeySet::FromText("", TestRsaKey().public_pem());
  EXPECT_TRUE(keys.ok()) << keys.status();
  v->SetKeys(*keys);
  return v;
}

std::string Reason(const absl::StatusOr<JwtClaims>& c) {
  return c.ok() ? "ok" : std::string(c.status().message());
}

TEST(Base64Url, RoundTripsEveryLengthWithoutPadding) {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    const std::string encoded = Base64UrlEncode(s);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    absl::StatusOr<std::string> decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.ok()) << s;
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, RejectsPaddingForeignCharactersAndTruncation) {
  EXPECT_FALSE(Base64UrlDecode("Zm9v=").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm+v").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9/").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm 9v").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").ok());  // 5 characters cannot be whole bytes
  EXPECT_FALSE(Base64UrlDecode("Zh").ok());     // non-zero leftover bits
}

TEST(Jwt, AcceptsAGoodHs256TokenAndReadsItsClaims) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier();
  JwtVerifier& v = *owned;
  const int64_t exp = NowPlus(60);
  absl::StatusOr<JwtClaims> c = v.Verify(MintHs256(kSecret, {{"sub", "ana"}, {"exp", exp}}),
                                         absl::Now());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->subject, "ana");
  EXPECT_EQ(c->expires, absl::FromUnixSeconds(exp));
  EXPECT_EQ(c->paths, nullptr);  // no claim: no restriction
  EXPECT_EQ(c->send, nullptr);
  EXPECT_TRUE(c->MayConnect("/anything"));
}

TEST(Jwt, AnyConfiguredSecretVerifiesSoKeysCanRotate) {
  JwtVerifier v({});
  v.SetKeys(*JwtKeySet::FromText(absl::StrCat(" ", kSecret, " \n\n# old\n", kOtherSecret, "\r\n"),
                                 ""));
  EXPECT_EQ(v.keys()->secret_count(), 2u);
  EXPECT_TRUE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}}), absl::Now()).ok());
  EXPECT_TRUE(v.Verify(MintHs256(kOtherSecret, {{"exp", NowPlus(60)}}), absl::Now()).ok());
}

TEST(Jwt, RejectsASignatureMadeWithAnotherSecret) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier();
  JwtVerifier& v = *owned;
  absl::StatusOr<JwtClaims> c = v.Verify(MintHs256(kOtherSecret, {{"exp", NowPlus(60)}}),
                                         absl::Now());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Reason(c), "invalid token: bad signature");
}

TEST(Jwt, RejectsAPayloadChangedAfterSigning) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier();
  JwtVerifier& v = *owned;
  const std::string token = MintHs256(kSecret, {{"sub", "ana"}, {"exp", NowPlus(60)}});
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.find('.', dot1 + 1);
  const std::string forged = token.substr(0, dot1 + 1) +
                             Base64UrlEncode(json{{"sub", "root"}, {"exp", NowPlus(60)}}.dump()) +
                             token.substr(dot2);
  EXPECT_EQ(Reason(v.Verify(forged, absl::Now())), "invalid token: bad signature");
}

TEST(Jwt, RejectsAlgNoneEvenWithoutASignature) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier();
  JwtVerifier& v = *owned;
  const std::string unsigned_token =
      testing::SigningInput({{"alg", "none"}}, {{"exp", NowPlus(60)}}) + ".";
  EXPECT_EQ(Reason(v.Verify(unsigned_token, absl::Now())),
            "invalid token: unsigned tokens (alg \"none\") are not accepted");
}

TEST(Jwt, RejectsAlgorithmsThatAreNotConfigured) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier();
  JwtVerifier& v = *owned;
  // HS512 is not supported; RS256 has no key here.
  EXPECT_EQ(Reason(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}}, {{"alg", "HS512"}}),
                            absl::Now())),
            "invalid token: this signing algorithm is not accepted");
  EXPECT_FALSE(v.Verify(MintRs256(TestRsaKey(), {{"exp", NowPlus(60)}}), absl::Now()).ok());
  EXPECT_FALSE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}}, {{"typ", "JWT"}}),
                        absl::Now())
                   .ok());  // no alg at all
}

TEST(Jwt, RejectsHs256SignedWithThePublicKeyWhenOnlyRsaIsConfigured) {
  // The classic algorithm-confusion attack: the public key used as an HMAC
  // secret. With only RSA keys loaded, HS256 is not an accepted algorithm.
  std::unique_ptr<JwtVerifier> owned = RsaVerifier();
  JwtVerifier& v = *owned;
  const std::string token = MintHs256(TestRsaKey().public_pem(), {{"exp", NowPlus(60)}});
  EXPECT_EQ(Reason(v.Verify(token, absl::Now())),
            "invalid token: this signing algorithm is not accepted");
}

TEST(Jwt, RejectsAnExpiredTokenBeyondTheLeeway) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier({.leeway = absl::Seconds(30)});
  JwtVerifier& v = *owned;
  EXPECT_EQ(Reason(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(-31)}}), absl::Now())),
            "token expired");
  EXPECT_TRUE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(-20)}}), absl::Now()).ok());
}

TEST(Jwt, RequiresAnExpClaimThatIsANumber) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier();
  JwtVerifier& v = *owned;
  EXPECT_EQ(Reason(v.Verify(MintHs256(kSecret, {{"sub", "ana"}}), absl::Now())),
            "invalid token: no \"exp\" claim");
  EXPECT_EQ(Reason(v.Verify(MintHs256(kSecret, {{"exp", "tomorrow"}}), absl::Now())),
            "invalid token: \"exp\" is not a number");
}

TEST(Jwt, RejectsATokenWhoseNbfIsInTheFuture) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier({.leeway = absl::Seconds(5)});
  JwtVerifier& v = *owned;
  EXPECT_EQ(Reason(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(600)}, {"nbf", NowPlus(60)}}),
                            absl::Now())),
            "token not valid yet");
  EXPECT_TRUE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(600)}, {"nbf", NowPlus(2)}}),
                       absl::Now())
                  .ok());
  EXPECT_TRUE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(600)}, {"nbf", NowPlus(-60)}}),
                       absl::Now())
                  .ok());
}

TEST(Jwt, RejectsMalformedTokensWithoutThrowing) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier();
  JwtVerifier& v = *owned;
  const std::string good = MintHs256(kSecret, {{"exp", NowPlus(60)}});
  const std::string sig = good.substr(good.rfind('.'));
  const std::string claims = Base64UrlEncode(json{{"exp", NowPlus(60)}}.dump());
  for (const std::string& token : {
           std::string(""), std::string("abc"), std::string("a.b"), good + ".x",
           "!!!." + claims + sig,                                  // header not base64url
           Base64UrlEncode("{\"alg\":") + "." + claims + sig,      // header not JSON
           Base64UrlEncode("[\"HS256\"]") + "." + claims + sig,    // header not an object
           Base64UrlEncode("{\"alg\":\"HS256\"}") + "." + claims + ".%%%",  // signature
       }) {
    absl::StatusOr<JwtClaims> c = v.Verify(token, absl::Now());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated) << token;
  }
}

TEST(Jwt, RejectsASignedPayloadThatIsNotAJsonObject) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier();
  JwtVerifier& v = *owned;
  // Correctly signed, but the payload is not what a JWT holds.
  for (const std::string& payload : {std::string("[1,2]"), std::string("{\"exp\":"),
                                     std::string(5000, '[') + std::string(5000, ']')}) {
    const std::string input =
        Base64UrlEncode(R"({"alg":"HS256"})") + "." + Base64UrlEncode(payload);
    const std::string token = input + "." + Base64UrlEncode(testing::HmacSha256(kSecret, input));
    absl::StatusOr<JwtClaims> c = v.Verify(token, absl::Now());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated) << payload.substr(0, 20);
  }
}

TEST(Jwt, ChecksTheIssuerWhenConfigured) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier({.issuer = "https://id.example"});
  JwtVerifier& v = *owned;
  EXPECT_TRUE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}, {"iss", "https://id.example"}}),
                       absl::Now())
                  .ok());
  EXPECT_EQ(Reason(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}, {"iss", "https://evil"}}),
                            absl::Now())),
            "invalid token: wrong issuer");
  EXPECT_EQ(Reason(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}}), absl::Now())),
            "invalid token: wrong issuer");
}

TEST(Jwt, ChecksTheAudienceAsAStringOrAList) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier({.audience = "sigd"});
  JwtVerifier& v = *owned;
  EXPECT_TRUE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}, {"aud", "sigd"}}), absl::Now())
                  .ok());
  EXPECT_TRUE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}, {"aud", {"api", "sigd"}}}),
                       absl::Now())
                  .ok());
  EXPECT_EQ(Reason(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}, {"aud", "api"}}),
                            absl::Now())),
            "invalid token: wrong audience");
  EXPECT_EQ(Reason(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}}), absl::Now())),
            "invalid token: wrong audience");
}

TEST(Jwt, AcceptsRs256SignedWithAKeyGeneratedHere) {
  ASSERT_TRUE(TestRsaKey().ok());
  std::unique_ptr<JwtVerifier> owned = RsaVerifier();
  JwtVerifier& v = *owned;
  absl::StatusOr<JwtClaims> c =
      v.Verify(MintRs256(TestRsaKey(), {{"sub", "svc"}, {"exp", NowPlus(60)}}), absl::Now());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->subject, "svc");
}

TEST(Jwt, RejectsRs256SignedWithAnotherKey) {
  std::unique_ptr<JwtVerifier> owned = RsaVerifier();
  JwtVerifier& v = *owned;
  const RsaKey other = RsaKey::Generate();
  EXPECT_EQ(Reason(v.Verify(MintRs256(other, {{"exp", NowPlus(60)}}), absl::Now())),
            "invalid token: bad signature");
}

TEST(Jwt, HmacAndRsaKeysCanBeConfiguredTogether) {
  JwtVerifier v({});
  v.SetKeys(*JwtKeySet::FromText(kSecret, TestRsaKey().public_pem()));
  EXPECT_TRUE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}}), absl::Now()).ok());
  EXPECT_TRUE(v.Verify(MintRs256(TestRsaKey(), {{"exp", NowPlus(60)}}), absl::Now()).ok());
}

TEST(Jwt, PathsClaimRestrictsWhereTheClientMayConnect) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier();
  JwtVerifier& v = *owned;
  absl::StatusOr<JwtClaims> c = v.Verify(
      MintHs256(kSecret, {{"exp", NowPlus(60)}, {"paths", {"/chat/*", "/news"}}, {"send", json::array()}}),
      absl::Now());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->MayConnect("/chat/a"));
  EXPECT_TRUE(c->MayConnect("/chat/a/b"));
  EXPECT_TRUE(c->MayConnect("/news"));
  EXPECT_FALSE(c->MayConnect("/chat"));
  EXPECT_FALSE(c->MayConnect("/news/x"));
  EXPECT_FALSE(c->MayConnect("/admin"));
  ASSERT_NE(c->send, nullptr);
  EXPECT_TRUE(c->send->empty());  // an empty list allows nothing
  EXPECT_FALSE(JwtClaims::Allows(c->send.get(), "/chat/a"));
}

TEST(Jwt, RejectsPathClaimsThatAreNotListsOfPatterns) {
  std::unique_ptr<JwtVerifier> owned = HmacVerifier();
  JwtVerifier& v = *owned;
  EXPECT_EQ(Reason(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}, {"paths", "/chat"}}),
                            absl::Now())),
            "invalid token: \"paths\" is not a list of paths");
  EXPECT_FALSE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}, {"send", {"chat"}}}),
                        absl::Now())
                   .ok());
  EXPECT_FALSE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}, {"sub", 7}}), absl::Now()).ok());
}

TEST(JwtKeySet, RefusesWeakOrDamagedKeys) {
  EXPECT_FALSE(JwtKeySet::FromText("too-short", "").ok());
  EXPECT_FALSE(JwtKeySet::FromText("", "").ok());
  EXPECT_FALSE(JwtKeySet::FromText("# only a comment\n", "").ok());
  EXPECT_FALSE(JwtKeySet::FromText("", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                   .ok());
  EXPECT_FALSE(JwtKeySet::FromText("", "not a pem at all").ok());
  const RsaKey small = RsaKey::Generate(1024);
  EXPECT_FALSE(JwtKeySet::FromText("", small.public_pem()).ok());
  // Two PEM blocks: both keys load.
  const RsaKey second = RsaKey::Generate();
  absl::StatusOr<std::shared_ptr<const JwtKeySet>> two =
      JwtKeySet::FromText("", TestRsaKey().public_pem() + second.public_pem());
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ((*two)->public_key_count(), 2u);
}

TEST(JwtVerifier, ReloadReadsTheFilesAndKeepsTheOldKeysOnError) {
  testing::TempDir dir;
  const std::string path = dir.WriteFile("secrets", absl::StrCat(kSecret, "\n")).string();
  JwtVerifier v({.secret_file = path});
  ASSERT_TRUE(v.Reload().ok());
  EXPECT_TRUE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}}), absl::Now()).ok());
  dir.WriteFile("secrets", "short\n");
  EXPECT_FALSE(v.Reload().ok());
  EXPECT_TRUE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}}), absl::Now()).ok());
  dir.WriteFile("secrets", absl::StrCat(kOtherSecret, "\n"));
  ASSERT_TRUE(v.Reload().ok());
  EXPECT_FALSE(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}}), absl::Now()).ok());
  EXPECT_TRUE(v.Verify(MintHs256(kOtherSecret, {{"exp", NowPlus(60)}}), absl::Now()).ok());
}

TEST(JwtVerifier, WithoutKeysNothingVerifies) {
  JwtVerifier v({});
  EXPECT_EQ(v.Verify(MintHs256(kSecret, {{"exp", NowPlus(60)}}), absl::Now()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace sigd::auth
