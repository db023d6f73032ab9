#include "server/util/token_store.h"

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"

namespace sigd::util {
namespace {

TEST(BearerToken, ExtractsTheTokenOfABearerValue) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer   abc  "), "abc");
  EXPECT_EQ(BearerToken("BEARER abc"), "abc");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken(""), "");
}

TEST(TokenStore, OneTokenPerLineTrimmedSkippingBlanksAndComments) {
  char path[] = "/tmp/sigd-token-test-XXXXXX";
  close(mkstemp(path));
  std::ofstream(path) << "\t alpha \r\n\n# beta\nbeta\n";
  TokenStore store(path);
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.Check("alpha"));
  EXPECT_TRUE(store.Check("beta"));
  EXPECT_FALSE(store.Check("# beta"));
  EXPECT_FALSE(store.Check("alph"));
  EXPECT_FALSE(store.Check(""));
  std::remove(path);
  EXPECT_FALSE(store.Reload().ok());
  EXPECT_TRUE(store.Check("alpha"));  // a failed reload keeps the old tokens
}

}  // namespace
}  // namespace sigd::util
