#include "log/wal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>

#include "core/fault_injection_env.h"
#include "core/test_dir.h"
#include "log/crc32c.h"

namespace thunder::log {
namespace {

TEST(Crc32cTest, KnownValues) {
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc32c("world", Crc32c("hello ")), Crc32c("hello world"));
  EXPECT_EQ(UnmaskCrc(MaskCrc(0x12345678u)), 0x12345678u);
}

class WalTest : public ::testing::Test {
 protected:
  // Recovers and returns the bodies found, or the error.
  Result<std::vector<std::string>> Recover(Env& env, uint32_t partitions = 2) {
    std::vector<std::string> bodies;
    auto info = RecoverWal(env, dir_, partitions, [&](uint64_t, std::string_view b) {
      bodies.emplace_back(b);
      return Status::Ok();
    });
    if (!info.ok()) return info.status();
    last_ = *info;
    return bodies;
  }

  std::unique_ptr<Wal> OpenWal(Env& env, uint64_t segment_bytes = 64 << 20) {
    auto info = RecoverWal(env, dir_, 2, [](uint64_t, std::string_view) { return Status::Ok(); });
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    auto wal = Wal::Open(env, {dir_, 2, segment_bytes}, *info);
    EXPECT_TRUE(wal.ok()) << wal.status().ToString();
    return std::move(*wal);
  }

  // Appends and waits for durability; returns the completion status.
  static Status AppendSync(Wal& wal, std::vector<std::string> bodies) {
    std::promise<Status> p;
    wal.Append(bodies, [&](const Status& s, uint64_t) { p.set_value(s); });
    return p.get_future().get();
  }

  std::string SegmentPath(uint64_t n) const { return dir_ + "/" + SegmentFileName(n); }

  TestDir tmp_{"wal"};
  const std::string dir_ = tmp_.path();
  RecoveryInfo last_;
};

TEST_F(WalTest, RecordsComeBackInOrder) {
  {
    auto wal = OpenWal(Env::Default());
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(AppendSync(*wal, {"rec" + std::to_string(i), "x"}).ok());
    }
    EXPECT_EQ(wal->stats().records, 100u);
  }
  // Each durable batch was padded to the end of its block.
  EXPECT_EQ(*Env::Default().FileSize(SegmentPath(1)) % kBlockSize, 0u);
  auto bodies = Recover(Env::Default());
  ASSERT_TRUE(bodies.ok()) << bodies.status().ToString();
  ASSERT_EQ(bodies->size(), 100u);
  EXPECT_EQ((*bodies)[0], "rec0");
  EXPECT_EQ((*bodies)[98], "rec49");
  EXPECT_EQ(last_.next_seq, 101u);
}

TEST_F(WalTest, BatchEndingInTheLastBytesOfABlockIsReadBack) {
  // 8-byte header + 8-byte sequence number + 4077 bytes end 3 bytes before the block ends:
  // the padding there must not be taken for the start of the next record (found by fuzzing).
  {
    auto wal = OpenWal(Env::Default());
    ASSERT_TRUE(AppendSync(*wal, {std::string(4077, 'a')}).ok());
    ASSERT_TRUE(AppendSync(*wal, {"next"}).ok());
    ASSERT_TRUE(AppendSync(*wal, {std::string(4070, 'b'), "same batch"}).ok());
  }
  auto bodies = Recover(Env::Default());
  ASSERT_TRUE(bodies.ok()) << bodies.status().ToString();
  ASSERT_EQ(bodies->size(), 4u);
  EXPECT_EQ((*bodies)[1], "next");
  EXPECT_EQ((*bodies)[3], "same batch");
}

TEST_F(WalTest, ConcurrentAppendsAreGroupCommitted) {
  auto wal = OpenWal(Env::Default());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) ok += AppendSync(*wal, {std::string(40, 'a')}).ok();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 800);
  EXPECT_LE(wal->stats().batches, 800u);
}

TEST_F(WalTest, TornTailIsCutAndWritingGoesOn) {
  {
    auto wal = OpenWal(Env::Default());
    ASSERT_TRUE(AppendSync(*wal, {"first"}).ok());
    ASSERT_TRUE(AppendSync(*wal, {"second"}).ok());
  }
  // Tear the second record: keep only part of it.
  const uint64_t size = *Env::Default().FileSize(SegmentPath(1));
  ASSERT_TRUE(Env::Default().Truncate(SegmentPath(1), size - kBlockSize + 10).ok());
  auto bodies = Recover(Env::Default());
  ASSERT_TRUE(bodies.ok()) << bodies.status().ToString();
  EXPECT_EQ(*bodies, std::vector<std::string>{"first"});
  EXPECT_GT(last_.dropped_tail_bytes, 0u);
  {
    auto wal = OpenWal(Env::Default());
    ASSERT_TRUE(AppendSync(*wal, {"third"}).ok());
  }
  bodies = Recover(Env::Default());
  ASSERT_TRUE(bodies.ok()) << bodies.status().ToString();
  EXPECT_EQ(*bodies, (std::vector<std::string>{"first", "third"}));
}

TEST_F(WalTest, FlippedByteInTheMiddleIsRefused) {
  {
    auto wal = OpenWal(Env::Default());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(AppendSync(*wal, {"record" + std::to_string(i)}).ok());
  }
  std::string bytes = *Env::Default().ReadFile(SegmentPath(1));
  bytes[kBlockSize + 12] ^= 0x40;  // inside the first record's payload
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), SegmentPath(1), bytes).ok());
  auto bodies = Recover(Env::Default());
  ASSERT_FALSE(bodies.ok());
  EXPECT_EQ(bodies.status().code(), "wal_corrupt");
  EXPECT_NE(bodies.status().message().find("offset 4096"), std::string::npos)
      << bodies.status().message();
  EXPECT_NE(bodies.status().message().find("a good batch follows"), std::string::npos);
}

TEST_F(WalTest, FlippedByteInTheLastBatchIsATornTail) {
  {
    auto wal = OpenWal(Env::Default());
    ASSERT_TRUE(AppendSync(*wal, {"kept"}).ok());
    ASSERT_TRUE(AppendSync(*wal, {"damaged"}).ok());
  }
  std::string bytes = *Env::Default().ReadFile(SegmentPath(1));
  bytes[2 * kBlockSize + 14] ^= 0x01;
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), SegmentPath(1), bytes).ok());
  auto bodies = Recover(Env::Default());
  ASSERT_TRUE(bodies.ok());
  EXPECT_EQ(*bodies, std::vector<std::string>{"kept"});
}

TEST_F(WalTest, AcknowledgedRecordsSurviveLosingUnsyncedData) {
  FaultInjectionEnv env(Env::Default());
  {
    auto wal = OpenWal(env);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(AppendSync(*wal, {"acked" + std::to_string(i)}).ok());
  }
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto bodies = Recover(env);
  ASSERT_TRUE(bodies.ok());
  EXPECT_EQ(bodies->size(), 20u);
}

TEST_F(WalTest, FailedFsyncFailsTheRequestAndEverythingAfter) {
  FaultInjectionEnv env(Env::Default());
  auto wal = OpenWal(env);
  ASSERT_TRUE(AppendSync(*wal, {"acked"}).ok());
  env.SetFailSync(true);
  Status failed = AppendSync(*wal, {"not acked"});
  EXPECT_EQ(failed.code(), "log_failed");
  env.SetFailSync(false);
  EXPECT_EQ(AppendSync(*wal, {"after"}).code(), "log_failed");
  EXPECT_FALSE(wal->health().ok());
  wal.reset();
  // A power cut now: the acknowledged record is still there.
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  auto bodies = Recover(env);
  ASSERT_TRUE(bodies.ok());
  ASSERT_GE(bodies->size(), 1u);
  EXPECT_EQ((*bodies)[0], "acked");
}

TEST_F(WalTest, SegmentsRotateAndOldOnesCanBeDropped) {
  uint64_t last_seq = 0;
  {
    auto wal = OpenWal(Env::Default(), 3 * kBlockSize);
    for (int i = 0; i < 10; ++i) {
      std::promise<Status> p;
      last_seq = wal->Append(std::vector<std::string>{std::string(3000, 'z')},
                             [&](const Status& s, uint64_t) { p.set_value(s); });
      ASSERT_TRUE(p.get_future().get().ok());
    }
    auto bodies = Recover(Env::Default());
    ASSERT_TRUE(bodies.ok()) << bodies.status().ToString();
    EXPECT_EQ(bodies->size(), 10u);
    EXPECT_GT(last_.segments.size(), 2u);
    ASSERT_TRUE(wal->DropSegmentsThrough(last_seq - 1).ok());
  }
  auto bodies = Recover(Env::Default());
  ASSERT_TRUE(bodies.ok()) << bodies.status().ToString();
  EXPECT_LT(bodies->size(), 10u);
  EXPECT_EQ(last_.next_seq, last_seq + 1);
}

// A power cut can persist a later block of the last batch without an earlier one: that is
// an ordinary crash, not damage, whichever block went missing.
TEST_F(WalTest, LastBatchMissingAnEarlierBlockIsATornTail) {
  for (const uint64_t missing_block : {0, 1, 2}) {
    std::filesystem::remove_all(dir_);
    {
      auto wal = OpenWal(Env::Default());
      ASSERT_TRUE(AppendSync(*wal, {"acked"}).ok());
      ASSERT_TRUE(AppendSync(*wal, {std::string(3 * kBlockSize, 'x'), "y"}).ok());
    }
    std::string bytes = *Env::Default().ReadFile(SegmentPath(1));
    ASSERT_EQ(bytes.size(), 6 * kBlockSize);  // header, "acked", four blocks of the last batch
    std::fill_n(bytes.begin() + static_cast<ptrdiff_t>((2 + missing_block) * kBlockSize),
                kBlockSize, '\0');
    ASSERT_TRUE(WriteFileAtomically(Env::Default(), SegmentPath(1), bytes).ok());
    auto bodies = Recover(Env::Default());
    ASSERT_TRUE(bodies.ok()) << "block " << missing_block << ": " << bodies.status().ToString();
    EXPECT_EQ(*bodies, std::vector<std::string>{"acked"});
    EXPECT_EQ(last_.dropped_tail_bytes, 4 * kBlockSize);
    EXPECT_EQ(last_.dropped_tail_segment, 1u);
  }
}

// A client chooses bytes inside its records (a key, a buyer id). Bytes that look like a
// batch header, at a block boundary inside a torn last batch, must not make an ordinary
// crash look like damage: batch headers are checked with the segment's secret salt.
TEST_F(WalTest, ABatchHeaderForgedInsideARecordCannotFakeDamage) {
  std::string forged;
  AppendBatch(forged, /*salt guessed=*/0, 1000, 0, "");  // count 0, empty payload
  forged.resize(kBatchHeaderSize);
  // The batch header (32) and the record's length (4) come before the body in the file.
  std::string body(kBlockSize - kBatchHeaderSize - 4, 'x');
  body += forged;
  body += std::string(2000, 'y');
  {
    auto wal = OpenWal(Env::Default());
    ASSERT_TRUE(AppendSync(*wal, {"acked"}).ok());
    ASSERT_TRUE(AppendSync(*wal, {body}).ok());
  }
  std::string bytes = *Env::Default().ReadFile(SegmentPath(1));
  ASSERT_EQ(bytes.size(), 4 * kBlockSize);
  ASSERT_EQ(bytes.substr(3 * kBlockSize, kBatchHeaderSize), forged);  // where we meant it
  // The power went while the last batch was written: its first block never arrived.
  std::fill_n(bytes.begin() + 2 * static_cast<ptrdiff_t>(kBlockSize), kBlockSize, '\0');
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), SegmentPath(1), bytes).ok());
  auto bodies = Recover(Env::Default());
  ASSERT_TRUE(bodies.ok()) << bodies.status().ToString();
  EXPECT_EQ(*bodies, std::vector<std::string>{"acked"});
}

// Acknowledged batches lost inside a segment that later ones follow are damage.
TEST_F(WalTest, ZeroedBlockInsideAnEarlierSegmentIsDamage) {
  {
    auto wal = OpenWal(Env::Default(), 3 * kBlockSize);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(AppendSync(*wal, {std::string(100, 'a' + i)}).ok());
  }
  ASSERT_TRUE(Recover(Env::Default()).ok());
  ASSERT_GE(last_.segments.size(), 2u);
  std::string bytes = *Env::Default().ReadFile(SegmentPath(1));
  ASSERT_GE(bytes.size(), 3 * kBlockSize);
  // The last block of segment 1: zeros read as "the data ends here".
  std::fill(bytes.end() - static_cast<ptrdiff_t>(kBlockSize), bytes.end(), '\0');
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), SegmentPath(1), bytes).ok());
  auto bodies = Recover(Env::Default());
  ASSERT_FALSE(bodies.ok());
  EXPECT_EQ(bodies.status().code(), "wal_corrupt");
  EXPECT_NE(bodies.status().message().find(SegmentFileName(1)), std::string::npos)
      << bodies.status().message();
}

// Records are numbered without gaps across segments; a gap is refused, never skipped.
TEST_F(WalTest, GapInRecordNumbersBetweenSegmentsIsRefused) {
  {
    auto wal = OpenWal(Env::Default());
    ASSERT_TRUE(AppendSync(*wal, {"one", "two"}).ok());
  }
  std::string segment2 = EncodeHeader({kFormatVersion, 2, 2, 10, 77});
  std::string payload;
  AppendRecord(payload, "ten");
  AppendBatch(segment2, 77, 10, 1, payload);
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), SegmentPath(2), segment2).ok());
  auto bodies = Recover(Env::Default());
  ASSERT_FALSE(bodies.ok());
  EXPECT_EQ(bodies.status().code(), "wal_corrupt");
  EXPECT_NE(bodies.status().message().find("records 3 to 9 are missing"), std::string::npos)
      << bodies.status().message();
}

// A crash while a new segment's header was being written leaves a file with no header;
// recovery removes it, and batches written after that restart survive the next one.
TEST_F(WalTest, CrashDuringSegmentCreationThenMoreBatchesSurviveTheNextRecovery) {
  {
    auto wal = OpenWal(Env::Default());
    ASSERT_TRUE(AppendSync(*wal, {"before"}).ok());
  }
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), SegmentPath(2), std::string(100, '\0')).ok());
  {
    auto wal = OpenWal(Env::Default());
    ASSERT_TRUE(AppendSync(*wal, {"after one"}).ok());
    ASSERT_TRUE(AppendSync(*wal, {"after two"}).ok());
  }
  EXPECT_FALSE(Env::Default().FileExists(SegmentPath(2)));
  auto bodies = Recover(Env::Default());
  ASSERT_TRUE(bodies.ok()) << bodies.status().ToString();
  EXPECT_EQ(*bodies, (std::vector<std::string>{"before", "after one", "after two"}));
  EXPECT_EQ(last_.dropped_tail_bytes, 0u);
}

// A batch whose fsync failed was refused to its callers: it must not come back after a
// restart, even though its bytes may have reached the file.
TEST_F(WalTest, RefusedBatchDoesNotComeBackAfterARestart) {
  FaultInjectionEnv env(Env::Default());
  {
    auto wal = OpenWal(env);
    ASSERT_TRUE(AppendSync(*wal, {"acked"}).ok());
    env.SetFailSync(true);
    EXPECT_EQ(AppendSync(*wal, {"refused"}).code(), "log_failed");
    env.SetFailSync(false);
  }
  auto bodies = Recover(Env::Default());
  ASSERT_TRUE(bodies.ok()) << bodies.status().ToString();
  EXPECT_EQ(*bodies, std::vector<std::string>{"acked"});
}

TEST_F(WalTest, PartitionCountMustMatch) {
  EXPECT_FALSE(PartitionsOfExistingLog(Env::Default(), dir_).has_value());
  { auto wal = OpenWal(Env::Default()); }
  EXPECT_EQ(PartitionsOfExistingLog(Env::Default(), dir_), 2u);
  auto bodies = Recover(Env::Default(), 3);
  ASSERT_FALSE(bodies.ok());
  EXPECT_EQ(bodies.status().code(), "partitions_changed");
}

}  // namespace
}  // namespace thunder::log
