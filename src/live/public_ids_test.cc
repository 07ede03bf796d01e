#include "live/public_ids.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>

#include "core/test_dir.h"
#include "engine/types.h"

namespace thunder::live {
namespace {

const PublicIds::Key kKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

TEST(PublicIdsTest, SipHashMatchesTheReferenceVector) {
  // Key 00..0f, message 00..07: the 8-byte vector of the SipHash paper's reference code
  // (also `openssl mac -macopt hexkey:0001..0f -macopt size:8 SIPHASH`).
  EXPECT_EQ(SipHash24(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, 0x0706050403020100ULL),
            0x93f5f5799a932462ULL);
}

TEST(PublicIdsTest, RoundTripsEveryKindAndShape) {
  const PublicIds ids(kKey);
  for (uint64_t internal : {uint64_t{0}, uint64_t{1}, engine::MakeId(1, 0), engine::MakeId(1, 1),
                            engine::MakeId(123456789, 255), PublicIds::kMaxInternalId}) {
    for (PublicKind kind : {PublicKind::kDrop, PublicKind::kOrder}) {
      const std::string text = ids.Encode(kind, internal);
      EXPECT_EQ(text.size(), 17u) << text;
      EXPECT_EQ(text.substr(0, 4), kind == PublicKind::kDrop ? "drp_" : "ord_");
      EXPECT_EQ(ids.Decode(kind, text), internal) << text;
    }
  }
  EXPECT_THROW((void)ids.Encode(PublicKind::kDrop, PublicIds::kMaxInternalId + 1),
               std::out_of_range);
}

TEST(PublicIdsTest, AnIdOfOneKindIsNoIdOfTheOther) {
  const PublicIds ids(kKey);
  for (uint64_t seq = 1; seq <= 2000; ++seq) {
    const uint64_t internal = engine::MakeId(seq, seq % 3);
    const std::string drop = ids.Encode(PublicKind::kDrop, internal);
    const std::string order = ids.Encode(PublicKind::kOrder, internal);
    EXPECT_NE(drop.substr(4), order.substr(4));
    // The prefix alone does not make a kind: the tag inside the permuted block decides.
    EXPECT_EQ(ids.Decode(PublicKind::kOrder, drop), std::nullopt);
    EXPECT_EQ(ids.Decode(PublicKind::kOrder, "ord_" + drop.substr(4)), std::nullopt) << drop;
    EXPECT_EQ(ids.Decode(PublicKind::kDrop, "drp_" + order.substr(4)), std::nullopt) << order;
  }
}

TEST(PublicIdsTest, MalformedTextIsNoId) {
  const PublicIds ids(kKey);
  const std::string good = ids.Encode(PublicKind::kOrder, 42);
  ASSERT_TRUE(ids.Decode(PublicKind::kOrder, good).has_value());
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& bad :
       {std::string(""), std::string("42"), std::string("ord_"), good.substr(0, 16), good + "0",
        "ORD_" + good.substr(4), upper, "ord_" + std::string(13, 'u'),  // u is not in the alphabet
        "ord_" + std::string(13, '!'), "ord_z" + good.substr(5),        // a 65th bit
        "xyz_" + good.substr(4), std::string("ord_0000000000042")}) {
    EXPECT_EQ(ids.Decode(PublicKind::kOrder, bad), std::nullopt) << bad;
  }
}

TEST(PublicIdsTest, NeighbouringIdsLookUnrelated) {
  const PublicIds ids(kKey);
  std::set<std::string> seen;
  int close_pairs = 0;
  for (uint64_t seq = 1; seq <= 1000; ++seq) {
    const std::string a = ids.Encode(PublicKind::kOrder, engine::MakeId(seq, 0));
    const std::string b = ids.Encode(PublicKind::kOrder, engine::MakeId(seq + 1, 0));
    seen.insert(a);
    // Neighbours should share no more characters than unrelated ids do; a sequential or
    // weakly mixed code would differ only in its last few.
    int same_chars = 0;
    for (size_t i = 4; i < a.size(); ++i) same_chars += a[i] == b[i];
    if (same_chars > 6) ++close_pairs;
  }
  EXPECT_EQ(seen.size(), 1000u);
  // 13 characters agree by chance with p = 1/32 each: more than 6 agreeing is rare.
  EXPECT_LE(close_pairs, 2);
  // And another key gives other ids.
  PublicIds::Key other = kKey;
  other[0] ^= 1;
  EXPECT_NE(PublicIds(other).Encode(PublicKind::kOrder, 256), ids.Encode(PublicKind::kOrder, 256));
}

// Counts directory syncs: the key must be durable, name included, before any id is made.
class DirSyncCountingEnv : public EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  Status SyncDir(const std::string& dir) override {
    ++dir_syncs;
    return EnvWrapper::SyncDir(dir);
  }
  int dir_syncs = 0;
};

TEST(PublicIdsTest, TheKeyIsMadeOnceAndKeptDurably) {
  TestDir dir("public_ids");
  DirSyncCountingEnv env(Env::Default());
  auto first = LoadOrCreatePublicIds(env, dir.path());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(env.dir_syncs, 1);
  const std::string id = first->Encode(PublicKind::kDrop, 256);
  // The next start reads the same key, and writes nothing.
  auto again = LoadOrCreatePublicIds(env, dir.path());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->Encode(PublicKind::kDrop, 256), id);
  EXPECT_EQ(env.dir_syncs, 1);
  // Another data directory has another key.
  TestDir other("public_ids_other");
  auto elsewhere = LoadOrCreatePublicIds(env, other.path());
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_NE(elsewhere->Encode(PublicKind::kDrop, 256), id);
}

TEST(PublicIdsTest, ADamagedKeyFileRefusesToStart) {
  TestDir dir("public_ids");
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir.path() + "/public_id.key", "not hex\n").ok());
  auto ids = LoadOrCreatePublicIds(Env::Default(), dir.path());
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.status().message().find("restore it from a backup"), std::string::npos);
}

}  // namespace
}  // namespace thunder::live
